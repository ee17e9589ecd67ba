import type { Connection } from '@temporalio/client';
import { isDeadlineExceeded, isUnavailable, refusedSearchAttribute } from '../temporal/client';
import { ProblemError } from './problem';

export const RETRY_AFTER_SECONDS = '5';
/** How long one request waits for Temporal before the caller is told 503. */
export const TEMPORAL_DEADLINE_MS = 5000;

/** 503 with Retry-After; its title names the problem's type (`…/service-unavailable` unless given). */
export function unavailable(detail: string, title = 'Service unavailable'): ProblemError {
  return new ProblemError(503, title, detail, undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
}

/** What the caller is told when Temporal's namespace lacks one of Herald's search attributes (`refusedSearchAttribute`). */
export function searchAttributeMissing(attribute: string, resend: string): string {
  return `Temporal's namespace does not accept the search attribute ${attribute}: Herald's search attributes must be registered in it (docs/operations.md); ${resend}`;
}

/**
 * Runs a Temporal call with a deadline. "Temporal unreachable" becomes 503 with Retry-After, and
 * so does a namespace that lacks Herald's search attributes: the request is fine, Temporal is
 * not ready for it.
 */
export async function callTemporal<T>(connection: Connection, fn: () => Promise<T>): Promise<T> {
  try {
    return await connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);
  } catch (err) {
    // Past the deadline Temporal may still have taken the call: the caller cannot be told nothing changed.
    if (isDeadlineExceeded(err)) {
      // Its own type (…/outcome-unknown): clients send again only what is safe to repeat.
      throw unavailable(
        'Temporal did not answer in time, and may have taken the request: sending it again is safe, but for a replay or a recover, which would run twice; check those first.',
        'Outcome unknown',
      );
    }
    if (isUnavailable(err)) throw unavailable('Temporal is unavailable; nothing was changed, try again.');
    const attribute = refusedSearchAttribute(err);
    if (attribute) throw unavailable(searchAttributeMissing(attribute, 'nothing was changed, try again.'));
    throw err;
  }
}
