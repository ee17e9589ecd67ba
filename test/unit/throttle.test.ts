import { createThrottle } from '../../src/activities/throttle';

describe('createThrottle', () => {
  it('holds a subscription to its concurrency without touching the others', async () => {
    const throttle = createThrottle(2);
    const a1 = await throttle.admit('sub_a', undefined);
    const a2 = await throttle.admit('sub_a', undefined);
    const a3 = await throttle.admit('sub_a', undefined);
    expect(a1.admitted && a2.admitted).toBe(true);
    expect(a3.admitted).toBe(false);
    if (!a3.admitted) expect(a3.retryInMs).toBeGreaterThanOrEqual(500);
    expect((await throttle.admit('sub_b', undefined)).admitted).toBe(true);
    if (a1.admitted) a1.release();
    expect((await throttle.admit('sub_a', undefined)).admitted).toBe(true);
  });

  it("honours rateLimitPerSecond and says how long to wait for the next second's allowance", async () => {
    const throttle = createThrottle(100);
    const admitted = [];
    for (let i = 0; i < 3; i++) {
      const a = await throttle.admit('sub_rate', 3);
      if (a.admitted) a.release();
      admitted.push(a.admitted);
    }
    const fourth = await throttle.admit('sub_rate', 3);
    expect(admitted).toEqual([true, true, true]);
    expect(fourth.admitted).toBe(false);
    if (!fourth.admitted) {
      expect(fourth.retryInMs).toBeGreaterThan(0);
      expect(fourth.retryInMs).toBeLessThanOrEqual(1_100);
    }
  });
});
