import ipaddr from 'ipaddr.js';

/**
 * Outbound target safety: which addresses a delivery may dial. Only globally routable
 * unicast passes; loopback, private (RFC 1918, ULA), link-local (cloud metadata),
 * CGNAT, multicast, unspecified and the other special ranges are refused unless the
 * operator allows private targets.
 */

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** Classifies one textual IP address (v4, v6, v4-mapped v6). */
export function classifyAddress(address: string): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, reason: `"${address}" is not an IP address` };
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  // IPv4-compatible IPv6 (::a.b.c.d, deprecated) is refused whole: "::7f00:1" is 127.0.0.1.
  if (range === 'unicast' && parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) {
    return { allowed: false, reason: `address ${parsed.toString()} is IPv4-compatible IPv6 (deprecated)` };
  }
  if (range === 'unicast') return { allowed: true };
  return { allowed: false, reason: `address ${parsed.toString()} is in a refused range (${range})` };
}

/** Names of cloud metadata services (their addresses are link-local and refused anyway). */
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** The hostname of a URL as the dialler sees it: brackets and trailing dots removed. */
export function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
}

/**
 * Checks what can be known from the URL alone: a literal address in a refused range, or a
 * name that always means this machine. Names are checked again at connect time, on the
 * address actually dialled.
 */
export function classifyUrlHost(url: URL): AddressVerdict {
  const host = hostOf(url);
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return { allowed: false, reason: `host "${host}" is loopback` };
  }
  if (METADATA_HOSTS.has(host)) return { allowed: false, reason: `host "${host}" is a cloud metadata service` };
  if (ipaddr.isValid(host)) return classifyAddress(host);
  return { allowed: true };
}
