/** When a request that did not get through is tried again: bounded attempts, bounded waits. */

export interface RetryOptions {
  /** Tries in all, the first included (default 4; 1 turns retries off). */
  attempts?: number;
  /** The first back-off when the server gives no Retry-After; it doubles each time (default 500 ms). */
  baseDelayMs?: number;
  /** No single wait is longer than this, whatever Retry-After asks (default 30 s). */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Statuses meaning "not processed, come back later": the rate limit and load shedding / Temporal down. */
export const RETRYABLE_STATUSES = new Set([429, 503]);

/**
 * The 503 the API answers when Temporal did not confirm a call in time, which it may have taken
 * all the same: only a request safe to send twice is sent again after it (a second replay or
 * recover would deliver again).
 */
export const OUTCOME_UNKNOWN_TYPE = 'https://herald.dev/problems/outcome-unknown';

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before try `attempt + 1` (attempt is 1-based): the server's word if it gave one, else exponential back-off with jitter. */
export function delayBefore(attempt: number, retryAfter: number | undefined, options: Required<RetryOptions>): number {
  const backoff = options.baseDelayMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
  return Math.min(retryAfter ?? backoff, options.maxDelayMs);
}
