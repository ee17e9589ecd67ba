import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `{id}.{timestamp}.{body}`, keyed by the base64-decoded part of a `whsec_` secret.
 * The sender and the receiver helper both use this module.
 */

const SECRET_PREFIX = 'whsec_';

export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

export function sign(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one `v1,` signature per secret, space-separated during a rotation. */
export function signatureHeader(secrets: string[], msgId: string, timestampSeconds: number, body: string): string {
  return secrets.map((s) => sign(s, msgId, timestampSeconds, body)).join(' ');
}

export interface VerifyOptions {
  /** Allowed clock difference in seconds; the spec's suggestion is 5 minutes. */
  toleranceSeconds?: number;
  nowSeconds?: number;
}

/** Why a delivery failed verification: a malformed request, or one that is not authentic or not fresh. */
export type VerificationFailure =
  'missing_headers' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_in_future' | 'no_matching_signature' | 'invalid_body';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    message: string,
    readonly reason: VerificationFailure,
  ) {
    super(message);
  }
}

/** Verifies one delivery; throws WebhookVerificationError with the reason when it does not hold. */
export function verify(
  secret: string,
  body: string,
  headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  options: VerifyOptions = {},
): void {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) throw new WebhookVerificationError('missing webhook headers', 'missing_headers');
  const ts = Number(timestamp);
  if (!Number.isInteger(ts)) throw new WebhookVerificationError('invalid timestamp', 'invalid_timestamp');
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (ts < now - tolerance) throw new WebhookVerificationError('timestamp too old', 'timestamp_too_old');
  if (ts > now + tolerance) throw new WebhookVerificationError('timestamp in the future', 'timestamp_in_future');
  const expected = Buffer.from(sign(secret, id, ts, body).slice(3), 'base64');
  for (const candidate of signature.split(' ')) {
    const [version, mac] = candidate.split(',', 2);
    if (version !== 'v1' || !mac) continue;
    const given = Buffer.from(mac, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new WebhookVerificationError('no matching signature', 'no_matching_signature');
}
