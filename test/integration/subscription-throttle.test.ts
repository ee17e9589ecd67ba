import * as api from '../harness/api';
import { eventually, useStack } from '../harness/stack';

/** Per-subscription limits: a slow receiver holds only its own delivery slots, and rateLimitPerSecond spaces requests. */

const env = useStack();

test('a slow subscription holds at most its concurrency limit of delivery slots; others go on', async () => {
  env.receiver.on('/stuck', () => ({ status: 200, delayMs: 8_000 }));
  await api.subscribe(env.stack, env.receiver, '/stuck', ['throttle.limit'], { timeoutMs: 10_000 });
  // More stuck deliveries than the worker has slots (50): without the per-subscription limit
  // (10) they would take every slot and the fast subscription would wait for them.
  for (let i = 0; i < 60; i++) await api.send(env.stack, { type: 'throttle.limit', data: { i } });
  await eventually(() => env.receiver.received('/stuck').length >= 10, 30_000, 'the slow receiver to fill its slots');
  await new Promise((r) => setTimeout(r, 1_000));
  expect(env.receiver.received('/stuck').length).toBeLessThanOrEqual(10);

  await api.subscribe(env.stack, env.receiver, '/fast', ['throttle.fast']);
  const fast = await api.send(env.stack, { type: 'throttle.fast', data: {} });
  const view = await api.finalEvent(env.stack, fast.id, 20_000);
  expect(view.status).toBe('delivered');
  // Not behind the stuck ones: before any of their slots freed (the eleventh comes only then).
  const stuck = env.receiver.received('/stuck');
  expect(env.receiver.received('/fast')[0].receivedAt).toBeLessThan(stuck[10]?.receivedAt ?? Infinity);
});

test('rateLimitPerSecond spaces the requests to one subscription', async () => {
  await api.subscribe(env.stack, env.receiver, '/rated', ['throttle.rated'], { rateLimitPerSecond: 2 });
  const ids = [];
  for (let i = 0; i < 8; i++) ids.push((await api.send(env.stack, { type: 'throttle.rated', data: { i } })).id);
  for (const id of ids) expect((await api.finalEvent(env.stack, id, 30_000)).status).toBe('delivered');
  const times = env.receiver
    .received('/rated')
    .map((r) => r.receivedAt)
    .sort((a, b) => a - b);
  expect(times).toHaveLength(8);
  // 2 per second in fixed one-second windows: 8 requests take four windows, so at least 3 s,
  // and no sliding second holds more than two windows' worth.
  expect(times[7] - times[0]).toBeGreaterThanOrEqual(2_900);
  for (let i = 4; i < times.length; i++) expect(times[i] - times[i - 4]).toBeGreaterThanOrEqual(900);
});
