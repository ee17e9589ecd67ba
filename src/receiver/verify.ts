import { secretKey, verify, WebhookVerificationError } from '../domain/signing';
import type { WebhookPayload } from '../domain/schemas';

/** What a webhook body holds: one event, or for a digest subscription an array of them. */
export type WebhookBody = WebhookPayload | WebhookPayload[];

/** Fetch's `Headers`, or Node's `IncomingHttpHeaders` (names in lower case). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** Allowed difference between `webhook-timestamp` and now, either way, in seconds (default 300). */
  tolerance?: number;
  /** The current time, for tests. */
  now?: Date;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? found.join(' ') : found;
}

/**
 * The secrets a receiver verifies with. An empty one is refused: its HMAC key has no bytes,
 * which anyone can sign with (`HERALD_SECRET=` left blank would accept forged deliveries).
 */
export function usableSecrets(secrets: string | readonly string[]): readonly string[] {
  const candidates = typeof secrets === 'string' ? [secrets] : secrets;
  if (candidates.length === 0) throw new Error('verifying webhooks needs at least one secret');
  if (candidates.some((secret) => secretKey(secret).length === 0)) {
    throw new Error("a webhook secret is empty: pass the subscription's whsec_… secret");
  }
  return candidates;
}

/**
 * Verifies a Standard Webhooks delivery and answers its parsed body; throws
 * WebhookVerificationError (with a `reason`) when it is not signed with one of `secrets`
 * (several during a rotation), is outside the timestamp tolerance, or is not JSON.
 * `rawBody` must be the bytes as received: a re-serialised JSON object would not match.
 */
export function verifyWebhook(
  secrets: string | readonly string[],
  rawBody: string | Buffer,
  headers: WebhookHeaders,
  options: VerifyWebhookOptions = {},
): WebhookBody {
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const signed = {
    id: header(headers, 'webhook-id'),
    timestamp: header(headers, 'webhook-timestamp'),
    signature: header(headers, 'webhook-signature'),
  };
  const verifyOptions = {
    ...(options.tolerance !== undefined && { toleranceSeconds: options.tolerance }),
    ...(options.now && { nowSeconds: Math.floor(options.now.getTime() / 1000) }),
  };
  const candidates = usableSecrets(secrets);
  // During a rotation the receiver knows both secrets: any one of them verifying is enough.
  const failures = candidates.map((secret) => {
    try {
      verify(secret, body, signed, verifyOptions);
      return undefined;
    } catch (err) {
      if (err instanceof WebhookVerificationError) return err;
      throw err;
    }
  });
  if (!failures.includes(undefined)) throw failures[0]!;
  try {
    return JSON.parse(body) as WebhookBody;
  } catch {
    throw new WebhookVerificationError('body is not JSON', 'invalid_body');
  }
}

/** The answer to a delivery that failed verification: 400 when it is malformed, 401 when it is not authentic or not fresh. */
export function rejectionStatus(error: WebhookVerificationError): 400 | 401 {
  return error.reason === 'no_matching_signature' || error.reason === 'timestamp_too_old' || error.reason === 'timestamp_in_future'
    ? 401
    : 400;
}
