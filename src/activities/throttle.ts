import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Keeps one receiver from taking the worker's delivery slots from the others: at most
 * `concurrency` requests in flight per subscription, and its `rateLimitPerSecond` when set.
 *
 * A delivery over the concurrency limit waits up to `waitMs` for a request to that
 * subscription to finish (a fast receiver frees one within milliseconds), and at most
 * `concurrency` deliveries wait per subscription. One that still has no turn is not
 * attempted: the workflow waits `retryInMs` and asks again, without an attempt recorded. So a
 * slow receiver holds at most twice its limit of the worker's slots. Counted per worker
 * process: with N workers a subscription may see up to N times these limits.
 */
export type Admission = { admitted: true; release: () => void } | { admitted: false; retryInMs: number; reason: string };

export function createThrottle(concurrency: number, waitMs = 1_000) {
  const inFlight = new Map<string, number>();
  const waiting = new Map<string, Array<() => void>>();
  const limiters = new Map<number, RateLimiterMemory>();
  const limiterFor = (perSecond: number) => {
    let limiter = limiters.get(perSecond);
    if (!limiter) limiters.set(perSecond, (limiter = new RateLimiterMemory({ points: perSecond, duration: 1 })));
    return limiter;
  };
  // A little spread, so deliveries held back together do not all ask again at the same instant.
  const jitter = (ms: number) => ms + Math.floor(Math.random() * 100);

  function release(subscriptionId: string): void {
    const queue = waiting.get(subscriptionId);
    const next = queue?.shift();
    if (queue && queue.length === 0) waiting.delete(subscriptionId);
    if (next) return next(); // the slot passes straight to a waiting delivery
    const left = (inFlight.get(subscriptionId) ?? 1) - 1;
    if (left > 0) inFlight.set(subscriptionId, left);
    else inFlight.delete(subscriptionId);
  }

  /** Resolves true once a slot was handed over, false after `waitMs`. */
  function waitForSlot(subscriptionId: string): Promise<boolean> {
    return new Promise((resolve) => {
      const queue = waiting.get(subscriptionId) ?? [];
      waiting.set(subscriptionId, queue);
      const handOver = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(handOver);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0 && waiting.get(subscriptionId) === queue) waiting.delete(subscriptionId);
        resolve(false);
      }, waitMs);
      queue.push(handOver);
    });
  }

  function slot(subscriptionId: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release(subscriptionId);
    };
  }

  return {
    async admit(subscriptionId: string, rateLimitPerSecond: number | undefined): Promise<Admission> {
      if (rateLimitPerSecond) {
        try {
          await limiterFor(rateLimitPerSecond).consume(subscriptionId, 1);
        } catch (res) {
          if (!(res instanceof RateLimiterRes)) throw res;
          return { admitted: false, retryInMs: jitter(res.msBeforeNext), reason: `over ${rateLimitPerSecond} requests per second` };
        }
      }
      const current = inFlight.get(subscriptionId) ?? 0;
      if (current < concurrency) {
        inFlight.set(subscriptionId, current + 1);
        return { admitted: true, release: slot(subscriptionId) };
      }
      const queued = waiting.get(subscriptionId)?.length ?? 0;
      if (queued < concurrency && (await waitForSlot(subscriptionId))) return { admitted: true, release: slot(subscriptionId) };
      return { admitted: false, retryInMs: jitter(waitMs), reason: `${concurrency} requests in flight to this subscription` };
    },
  };
}
