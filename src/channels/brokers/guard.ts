import dns from 'node:dns';
import { classifyAddress, classifyUrlHost, hostOf } from '../../domain/targets';
import { TargetRefusedError } from '../http-sender';

/**
 * The private-target guard for broker URLs: what src/channels/http-sender.ts does for webhooks
 * in its connect-time lookup, done before a broker client dials, since those clients resolve
 * names themselves. The name is resolved here and every address checked; a plaintext URL is
 * then dialled at the checked address itself, so a name that resolves differently a moment
 * later (DNS rebinding) still reaches only what was checked. A TLS URL keeps its name, which
 * the certificate is verified against.
 */

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true });

const TLS_SCHEMES = new Set(['amqps:', 'tls:', 'rediss:', 'mqtts:']);

/** The URL to dial for `text`, or a TargetRefusedError naming why its host is refused. */
export async function dialableUrl(text: string, allowPrivateTargets: boolean, lookup: Lookup = systemLookup): Promise<string> {
  if (allowPrivateTargets) return text;
  const url = new URL(text);
  const host = hostOf(url);
  const byName = classifyUrlHost(url);
  if (!byName.allowed) throw new TargetRefusedError(`target ${host} refused: ${byName.reason}`);
  const addresses = await lookup(host);
  for (const { address } of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.allowed) throw new TargetRefusedError(`target ${host} refused: ${verdict.reason}`);
  }
  if (TLS_SCHEMES.has(url.protocol) || addresses.length === 0) return text;
  const [first] = addresses;
  url.hostname = first.family === 6 ? `[${first.address}]` : first.address;
  return url.toString();
}
