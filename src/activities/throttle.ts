import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Keeps one receiver from taking the worker's delivery slots from the others: at most
 * `concurrency` requests in flight per subscription, and its `rateLimitPerSecond` when set.
 * A delivery over either limit is not attempted; the workflow waits `retryInMs` and asks
 * again, without an attempt recorded. Counted per worker process: with N workers a
 * subscription may see up to N times these limits.
 */
export type Admission = { admitted: true; release: () => void } | { admitted: false; retryInMs: number; reason: string };

export function createThrottle(concurrency: number) {
  const inFlight = new Map<string, number>();
  const limiters = new Map<number, RateLimiterMemory>();
  const limiterFor = (perSecond: number) => {
    let limiter = limiters.get(perSecond);
    if (!limiter) limiters.set(perSecond, (limiter = new RateLimiterMemory({ points: perSecond, duration: 1 })));
    return limiter;
  };
  // A little spread, so deliveries held back together do not all ask again at the same instant.
  const jitter = (ms: number) => ms + Math.floor(Math.random() * 100);

  return {
    async admit(subscriptionId: string, rateLimitPerSecond: number | undefined): Promise<Admission> {
      const current = inFlight.get(subscriptionId) ?? 0;
      if (current >= concurrency) return { admitted: false, retryInMs: jitter(500), reason: `${current} requests in flight to this subscription` };
      if (rateLimitPerSecond) {
        try {
          await limiterFor(rateLimitPerSecond).consume(subscriptionId, 1);
        } catch (res) {
          if (!(res instanceof RateLimiterRes)) throw res;
          return { admitted: false, retryInMs: jitter(res.msBeforeNext), reason: `over ${rateLimitPerSecond} requests per second` };
        }
      }
      inFlight.set(subscriptionId, current + 1);
      let released = false;
      return {
        admitted: true,
        release: () => {
          if (released) return;
          released = true;
          const left = (inFlight.get(subscriptionId) ?? 1) - 1;
          if (left > 0) inFlight.set(subscriptionId, left);
          else inFlight.delete(subscriptionId);
        },
      };
    },
  };
}
