import { ProblemError } from './problem';

/**
 * Sheds ingestion beyond what this API process can hand to Temporal: at most `limit` events
 * are being started at once, and a request that would go over is answered 503 with
 * `Retry-After` at once, instead of queueing until clients time out while memory grows.
 * Distinct from the per-key rate limit (429): this one protects Herald, not fairness.
 */
export function ingestGate(limit: number, retryAfterSeconds = 1) {
  let pending = 0;
  return {
    get pending() {
      return pending;
    },
    /** Admits `events` or throws 503; call the returned function once they are started. */
    admit(events: number): () => void {
      // An idle process admits any one request, so a batch larger than the limit still goes through.
      if (pending > 0 && pending + events > limit) {
        throw new ProblemError(
          503,
          'Service unavailable',
          `Herald is at capacity (${pending} events being started); retry after ${retryAfterSeconds} s.`,
          undefined,
          {
            'Retry-After': String(retryAfterSeconds),
          },
        );
      }
      pending += events;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        pending -= events;
      };
    },
  };
}
