import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ProblemError } from './problem';

/**
 * Per-key ingestion limit: events per second, counted per event so a batch of 500 weighs
 * 500. Kept in each API process's memory: with N API processes a key may send N times the
 * rate, which bounds a runaway producer without a shared store in the hot path.
 */
export interface IngestLimiter {
  /** Refuses the request (429) unless the key has the allowance for it: a batch larger than a second's needs the whole second. */
  admit: (keyId: string, events: number) => Promise<void>;
  /**
   * Charges the events of a request that was accepted beyond the second's allowance admitted
   * for them: the key is refused until its events fit the rate again. An invalid batch (400)
   * is not charged for its size.
   */
  charge: (keyId: string, events: number) => Promise<void>;
}

export function ingestLimiter(eventsPerSecond: number): IngestLimiter {
  const points = Math.max(1, Math.round(eventsPerSecond));
  const limiter = new RateLimiterMemory({ points, duration: 1 });
  return {
    admit: (keyId, events) => limited(() => limiter.consume(keyId, Math.min(Math.max(events, 1), points))),
    charge: async (keyId, events) => {
      if (events > points) await limiter.block(keyId, Math.ceil(events / points));
    },
  };

  async function limited(consume: () => Promise<unknown>): Promise<void> {
    try {
      await consume();
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
  }
}
