import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ProblemError } from './problem';

/**
 * Per-key ingestion limit: events per second, counted per event so a batch of 500 weighs
 * 500. Kept in each API process's memory: with N API processes a key may send N times the
 * rate, which bounds a runaway producer without a shared store in the hot path.
 */
export function ingestLimiter(eventsPerSecond: number): (keyId: string, events: number) => Promise<void> {
  const points = Math.max(1, Math.round(eventsPerSecond));
  const limiter = new RateLimiterMemory({ points, duration: 1 });
  return async (keyId, events) => {
    try {
      // A batch larger than a second's allowance passes when the key has the whole of it, and
      // then pays for the rest: the key is refused until its events fit the rate again.
      await limiter.consume(keyId, Math.min(Math.max(events, 1), points));
      if (events > points) await limiter.block(keyId, Math.ceil(events / points));
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new ProblemError(
        429,
        'Too many requests',
        `This API key may send ${points} events per second; retry after ${seconds} s.`,
        undefined,
        {
          'Retry-After': String(seconds),
        },
      );
    }
  };
}
