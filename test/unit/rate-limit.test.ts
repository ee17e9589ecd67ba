import { ProblemError } from '../../src/api/problem';
import { ingestLimiter } from '../../src/api/rate-limit';

describe('ingestLimiter', () => {
  test('allows the rate per second per key, counted per event, then answers 429 with Retry-After', async () => {
    const limit = ingestLimiter(10).admit;
    await limit('a', 6);
    await limit('a', 4);
    const refused = await limit('a', 1).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).status).toBe(429);
    expect(Number((refused as ProblemError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    await limit('b', 10); // another key has its own allowance
  });

  test("a batch larger than a second's allowance passes on a whole one, and the key then waits until its events fit the rate", async () => {
    const { admit: limit, charge } = ingestLimiter(100);
    await limit('k', 500);
    await charge('k', 500);
    await expect(limit('k', 1)).rejects.toMatchObject({ status: 429, headers: { 'Retry-After': '5' } });
    await new Promise((r) => setTimeout(r, 1_100));
    // Past the first second: 500 events at 100 a second take five.
    const later = await limit('k', 1).then(
      () => null,
      (err: ProblemError) => err,
    );
    expect(later?.status).toBe(429);
    expect(Number(later?.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(Number(later?.headers['Retry-After'])).toBeLessThanOrEqual(4);
    // Not on an allowance partly spent.
    await limit('j', 1);
    await expect(limit('j', 500)).rejects.toMatchObject({ status: 429 });
  });

  test('a batch refused as invalid is not charged for its size: only what was admitted', async () => {
    const { admit } = ingestLimiter(100);
    await admit('k', 5000); // answered 400: charge() is not called
    await new Promise((r) => setTimeout(r, 1_100));
    await admit('k', 1);
  });
});
