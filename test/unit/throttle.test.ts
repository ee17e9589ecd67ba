import { createThrottle } from '../../src/activities/throttle';

describe('createThrottle', () => {
  it('holds a subscription to its concurrency without touching the others', async () => {
    const throttle = createThrottle(2, 50);
    const a1 = await throttle.admit('sub_a', undefined);
    const a2 = await throttle.admit('sub_a', undefined);
    const a3 = await throttle.admit('sub_a', undefined); // waits 50 ms for a slot, gets none
    expect(a1.admitted && a2.admitted).toBe(true);
    expect(a3.admitted).toBe(false);
    if (!a3.admitted) expect(a3.retryInMs).toBeGreaterThanOrEqual(50);
    expect((await throttle.admit('sub_b', undefined)).admitted).toBe(true);
    if (a1.admitted) a1.release();
    expect((await throttle.admit('sub_a', undefined)).admitted).toBe(true);
  });

  it('hands a freed slot to a waiting delivery, and lets no more than the limit wait', async () => {
    const throttle = createThrottle(1, 5_000);
    const first = await throttle.admit('sub_w', undefined);
    const waiter = throttle.admit('sub_w', undefined);
    const turnedAway = await throttle.admit('sub_w', undefined); // one already waits: no wait for this one
    expect(turnedAway.admitted).toBe(false);
    if (first.admitted) {
      first.release();
      first.release(); // a second release frees nothing more
    }
    const second = await waiter;
    expect(second.admitted).toBe(true);
    const third = createThrottle(1, 20);
    const held = await third.admit('x', undefined);
    expect(held.admitted).toBe(true);
    expect((await third.admit('x', undefined)).admitted).toBe(false);
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
