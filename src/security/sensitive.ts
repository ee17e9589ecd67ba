import type { SecretBox } from './secret-box';

/** Custom header names that look like credentials: sealed at rest, never shown again. */
const SENSITIVE_HEADER = /authorization|cookie|token|secret|password|api[-_]?key/i;

export const REDACTED = '[redacted]';

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/** Seals the values of credential-like headers; the others stay readable. */
export function sealHeaders(headers: Record<string, string>, box: SecretBox): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([n, v]) => [n, isSensitiveHeader(n) ? box.seal(v) : v]));
}

export function openHeaders(headers: Record<string, string>, box: SecretBox): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([n, v]) => [n, isSensitiveHeader(n) ? box.open(v) : v]));
}

/** Headers as the API and the audit show them: credential-like values hidden. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([n, v]) => [n, isSensitiveHeader(n) ? REDACTED : v]));
}
