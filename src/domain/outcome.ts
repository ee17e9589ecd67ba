import { parseRetryAfter } from './schedule';

/**
 * What one delivery attempt came to, classified in one place: the delivery activity acts
 * on this union and turns it into Temporal failures at a single boundary.
 */
export type AttemptOutcome =
  | { kind: 'succeeded' }
  | { kind: 'retryable'; reason: string; minDelayMs?: number }
  | { kind: 'permanent'; reason: string; disableSubscription: boolean };

export type AttemptResult = { kind: 'response'; status: number; retryAfter?: string } | { kind: 'error'; message: string };

export function classifyAttempt(result: AttemptResult, now: number): AttemptOutcome {
  if (result.kind === 'error') return { kind: 'retryable', reason: result.message };
  const { status } = result;
  if (status >= 200 && status < 300) return { kind: 'succeeded' };
  if (status === 410) return { kind: 'permanent', reason: 'receiver answered 410 Gone', disableSubscription: true };
  if (status >= 300 && status < 400) return { kind: 'retryable', reason: `redirect ${status} not followed` };
  if (status === 429 || status === 503) {
    const minDelayMs = parseRetryAfter(result.retryAfter, now) ?? undefined;
    return { kind: 'retryable', reason: `receiver answered ${status}`, minDelayMs };
  }
  return { kind: 'retryable', reason: `receiver answered ${status}` };
}

/** The end of one SMTP conversation: the server's reply code and text, or no reply at all. */
export interface SmtpReply {
  /** null when no reply decided the attempt (connection refused, timeout, TLS failure). */
  code: number | null;
  message: string;
}

/**
 * SMTP replies on the same model: 2xx delivered, 5xx a permanent rejection (failed at once,
 * retrying would only be refused again), 4xx and a lost connection temporary (retried on the
 * schedule). A rejection never disables the subscription: 410's meaning has no SMTP twin.
 */
export function classifySmtpReply(reply: SmtpReply): AttemptOutcome {
  const { code } = reply;
  if (code === null) return { kind: 'retryable', reason: reply.message };
  if (code >= 200 && code < 300) return { kind: 'succeeded' };
  if (code >= 500) return { kind: 'permanent', reason: `SMTP server answered ${code}`, disableSubscription: false };
  return { kind: 'retryable', reason: `SMTP server answered ${code}` };
}
