import { verify } from '../../src/domain/signing';
import { deliveriesForEvent } from '../../src/store/deliveries';
import { LOCAL_ATTEMPT_MAX_MS } from '../../src/workflows/deliver-event';
import * as api from '../harness/api';
import { eventually, useStack, WorkerProcess } from '../harness/stack';

const env = useStack();

const subscribe = (path: string, eventTypes: string[], extra: Record<string, unknown> = {}) =>
  api.subscribe(env.stack, env.receiver, path, eventTypes, extra);
const send = (event: Record<string, unknown>) => api.send(env.stack, event);
const finalEvent = (id: string, timeoutMs?: number) => api.finalEvent(env.stack, id, timeoutMs);

test('an event reaches exactly the two of three subscriptions that match it, each signed with its own secret', async () => {
  const wide = await subscribe('/fanout/wide', ['build.*']);
  const exact = await subscribe('/fanout/exact', ['build.finished']);
  await subscribe('/fanout/other', ['user.added']);

  const { id } = await send({ id: 'fanout-1', type: 'build.finished', data: { ok: true }, actor: 'ci' });
  const view = await finalEvent(id);

  expect(view.status).toBe('delivered');
  expect(view.deliveries).toHaveLength(2);
  expect(env.receiver.received('/fanout/other')).toHaveLength(0);
  for (const [path, sub] of [
    ['/fanout/wide', wide],
    ['/fanout/exact', exact],
  ] as const) {
    const got = env.receiver.received(path);
    expect(got).toHaveLength(1);
    const [req] = got;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^Herald\//);
    expect(req.headers['webhook-id']).toMatch(/^msg_[^.]+$/);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ id: 'fanout-1', type: 'build.finished', data: { ok: true }, actor: 'ci' });
    expect(() =>
      verify(sub.secret, req.body, {
        id: req.headers['webhook-id'] as string,
        timestamp: req.headers['webhook-timestamp'] as string,
        signature: req.headers['webhook-signature'] as string,
      }),
    ).not.toThrow();
  }
  // Each subscription has its own message id.
  expect(env.receiver.received('/fanout/wide')[0].headers['webhook-id']).not.toBe(
    env.receiver.received('/fanout/exact')[0].headers['webhook-id'],
  );
});

test('any JSON object is stored and delivered as sent, and an answer holding NUL is recorded', async () => {
  env.receiver.on('/any-json', () => ({ status: 200, body: 'ok\u0000done' }));
  await subscribe('/any-json', ['json.any']);
  // Each of these is valid JSON that MongoDB or FerretDB would refuse as a document.
  const data = {
    $where: 'x',
    'dotted.key': 1,
    nested: [[1, [2, 3]], []],
    nul: 'a\u0000b',
    deep: JSON.parse('['.repeat(40) + ']'.repeat(40)),
  };
  const { id } = await send({ type: 'json.any', data });
  const view = await finalEvent(id);
  expect(view.status).toBe('delivered');
  expect(view.event.data).toEqual(data);
  expect(JSON.parse(env.receiver.received('/any-json')[0].body).data).toEqual(data);
  const [attempt] = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
  expect(attempt.response.body).toBe('ok\ufffddone');
});

test('a receiver failing twice then succeeding ends succeeded after 3 attempts, all listed, same webhook-id', async () => {
  env.receiver.on('/flaky', (_req, n) => ({ status: n <= 2 ? 500 : 200, body: n <= 2 ? 'boom' : 'fine' }));
  await subscribe('/flaky', ['flaky.test'], { retry: { schedule: ['200ms', '200ms', '200ms'] } });

  const { id } = await send({ type: 'flaky.test', data: {} });
  const view = await finalEvent(id);
  expect(view.status).toBe('delivered');
  expect(view.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 3, lastResponseStatus: 200, error: null });

  const attempts = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data.reverse(); // newest first
  expect(attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3]);
  expect(attempts.map((a: { response: { status: number } }) => a.response.status)).toEqual([500, 500, 200]);
  expect(attempts[0]).toMatchObject({ error: 'receiver answered 500', response: { body: 'boom' } });
  expect(attempts[0].request.headers['webhook-signature']).toMatch(/^v1,/);
  const ids = new Set(env.receiver.received('/flaky').map((r) => r.headers['webhook-id']));
  expect(ids.size).toBe(1);
});

test('a receiver answering 410 fails the delivery after one attempt and disables the subscription', async () => {
  env.receiver.on('/gone', () => ({ status: 410 }));
  const sub = await subscribe('/gone', ['gone.test'], { retry: { schedule: ['100ms', '100ms'] } });

  const { id } = await send({ type: 'gone.test', data: {} });
  const view = await finalEvent(id);
  expect(view.status).toBe('failed');
  expect(view.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, lastResponseStatus: 410 });
  expect(env.receiver.received('/gone')).toHaveLength(1);

  const after = (await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body;
  expect(after.active).toBe(false);
  expect(after.disabledReason).toMatch(/410/);
  await send({ type: 'gone.test', data: {} });
  await new Promise((r) => setTimeout(r, 1500));
  expect(env.receiver.received('/gone')).toHaveLength(1);
});

test('a 503 with Retry-After: 2 delays the next attempt at least two seconds, beyond a shorter schedule', async () => {
  env.receiver.on('/busy', (_req, n) => (n === 1 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 200 }));
  await subscribe('/busy', ['busy.test'], { retry: { schedule: ['100ms'] } });

  const { id } = await send({ type: 'busy.test', data: {} });
  await finalEvent(id);
  const [first, second] = env.receiver.received('/busy');
  expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(2000);
});

test('a delivery that exhausts its schedule ends failed with its last error', async () => {
  env.receiver.on('/down', () => ({ status: 500 }));
  await subscribe('/down', ['down.test'], { retry: { schedule: ['100ms', '100ms'] } });
  const { id } = await send({ type: 'down.test', data: {} });
  const view = await finalEvent(id);
  expect(view.deliveries[0]).toMatchObject({ status: 'failed', attempts: 3, error: 'receiver answered 500' });
  expect(env.receiver.received('/down')).toHaveLength(3);
});

test('killing the worker during a delivery loses nothing: a new worker completes it', async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  env.receiver.on('/slow', (_req, n) => (n === 1 ? { status: 200, delayMs: 60_000 } : { status: 200 }));
  await subscribe('/slow', ['slow.test'], { timeoutMs: 30_000 });

  const { id } = await send({ type: 'slow.test', data: {} });
  await eventually(() => env.receiver.received('/slow').length === 1, 20_000, 'the first attempt to arrive');
  await env.stack.worker.kill('SIGKILL');
  env.stack.worker = await WorkerProcess.start(env.stack.workerEnv);
  release();
  await released;

  const view = await finalEvent(id, 60_000);
  expect(view.status).toBe('delivered');
  const got = env.receiver.received('/slow');
  expect(got.length).toBeGreaterThanOrEqual(2);
  // At-least-once with the same message id, so the env.receiver can drop the duplicate.
  expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
});

const FAST = { timeoutMs: LOCAL_ATTEMPT_MAX_MS }; // first attempts made together, in one local activity

/** The ids of the events of a type the audit lists under a status (the list filters on the stored status). */
async function listedAs(type: string, status: string): Promise<string[]> {
  const res = await env.stack.request('GET', `/v1/events?type=${type}&status=${status}`);
  return res.body.data.map((e: { id: string }) => e.id);
}

test('first attempts to fast receivers, made together, each get their own record, and the event its final status in the audit', async () => {
  env.receiver.on('/together/flaky', (_req, n) => ({ status: n === 1 ? 500 : 200 }));
  await subscribe('/together/a', ['together.one'], FAST);
  await subscribe('/together/b', ['together.one'], FAST);
  await subscribe('/together/flaky', ['together.one'], { ...FAST, retry: { schedule: ['200ms'] } });

  const { id } = await send({ type: 'together.one', data: {} });
  const view = await finalEvent(id);
  expect(view.status).toBe('delivered');
  expect(view.deliveries.map((d: { attempts: number; status: string }) => [d.status, d.attempts]).sort()).toEqual([
    ['succeeded', 1],
    ['succeeded', 1],
    ['succeeded', 2],
  ]);
  // The three first attempts are kept inside the deliveries they stored, the retry in `attempts`;
  // the API lists the four, newest first, each once.
  const stored = await env.stack.store.deliveries.find({ tenant: 'default', eventId: id }).toArray();
  expect(stored.map((d) => d.firstAttempt?.attempt)).toEqual([1, 1, 1]);
  expect(await env.stack.store.attempts.find({ tenant: 'default', eventId: id }).toArray()).toEqual([
    expect.objectContaining({ attempt: 2, response: expect.objectContaining({ status: 200 }) }),
  ]);
  // Herald's own reads of deliveries leave them out.
  expect((await deliveriesForEvent(env.stack.store, 'default', id)).map((d) => [d.status, d.firstAttempt])).toEqual([
    [expect.any(String), undefined],
    [expect.any(String), undefined],
    [expect.any(String), undefined],
  ]);
  const attempts = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
  const listed = attempts.map((a: { attempt: number; response: { status: number } }) => [a.attempt, a.response.status]);
  expect(listed[0]).toEqual([2, 200]);
  expect(listed.slice(1).sort()).toEqual([
    [1, 200],
    [1, 200],
    [1, 500],
  ]);
  // The export reads them from both places too, with its deliveries and without.
  for (const include of ['attempts', 'deliveries,attempts']) {
    const line = JSON.parse(String((await env.stack.request('GET', `/v1/events/export?type=together.one&include=${include}`)).body).trim());
    expect(line.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 1, 1, 2]); // oldest first
    expect(line.deliveries?.length).toBe(include === 'attempts' ? undefined : 3);
  }
  for (const path of ['/together/a', '/together/b']) expect(env.receiver.received(path)).toHaveLength(1);
  // The first attempts ended with one delivery retrying: the run recorded the status at its end.
  await eventually(async () => (await listedAs('together.one', 'delivered')).includes(id), 10_000, 'the event listed as delivered');

  // Every first attempt final: the activity that made them recorded the status.
  const { id: unmatched } = await send({ type: 'together.two', data: {} });
  await finalEvent(unmatched);
  env.receiver.on('/together/refused', () => ({ status: 500 }));
  await subscribe('/together/refused', ['together.two'], { ...FAST, retry: { maxAttempts: 1 } });
  await subscribe('/together/ok', ['together.two'], FAST);
  const { id: second } = await send({ type: 'together.two', data: {} });
  expect((await finalEvent(second)).status).toBe('failed');
  await eventually(async () => (await listedAs('together.two', 'failed')).includes(second), 10_000, 'the event listed as failed');
  expect(await listedAs('together.two', 'delivered')).toEqual([unmatched]); // sent before the subscriptions: nothing to deliver
});

test('killing the worker while first attempts are made together sends again only the one not recorded, with its message id', async () => {
  env.receiver.on('/together-kill/slow', (_req, n) => ({ status: 200, delayMs: n === 1 ? 4_000 : 0 }));
  for (const path of ['/together-kill/a', '/together-kill/b', '/together-kill/slow']) await subscribe(path, ['together.kill'], FAST);

  const { id } = await send({ type: 'together.kill', data: {} });
  await eventually(() => env.receiver.received('/together-kill/slow').length === 1, 20_000, 'the slow attempt to arrive');
  await eventually(() => env.receiver.received('/together-kill/b').length === 1, 5_000, 'the fast attempts to arrive');
  const recorded = () => env.stack.store.deliveries.countDocuments({ tenant: 'default', eventId: id, status: 'succeeded' });
  await eventually(async () => (await recorded()) === 2, 3_000, 'the fast ones recorded'); // within the slow one's 4 s
  await env.stack.worker.kill('SIGKILL');
  env.stack.worker = await WorkerProcess.start(env.stack.workerEnv);

  const view = await finalEvent(id, 60_000);
  expect(view.status).toBe('delivered');
  expect(env.receiver.received('/together-kill/a')).toHaveLength(1);
  expect(env.receiver.received('/together-kill/b')).toHaveLength(1);
  const slow = env.receiver.received('/together-kill/slow');
  expect(slow.length).toBeGreaterThanOrEqual(2);
  expect(new Set(slow.map((r) => r.headers['webhook-id'])).size).toBe(1);
}, 90_000);

/** Waits until the held receiver has the event's first attempt and its quick sibling's delivery is the event's one stored. */
async function quickStoredWhileHeld(id: string, heldPath: string): Promise<void> {
  await eventually(() => env.receiver.received(heldPath).length === 1, 20_000, 'the held attempt');
  await eventually(
    async () => (await env.stack.store.deliveries.countDocuments({ tenant: 'default', eventId: id })) === 1,
    5_000,
    'the quick delivery stored',
  );
}

test('a fast delivery is stored once, by its first attempt: while that attempt sends, the event holds its claim and shows as delivering', async () => {
  env.receiver.on('/stored-once/held', () => ({ status: 200, delayMs: 4_000 })); // within FAST's 5 s
  await subscribe('/stored-once/held', ['stored.once'], FAST);
  await subscribe('/stored-once/quick', ['stored.once'], FAST);

  const { id } = await send({ type: 'stored.once', data: {} });
  await quickStoredWhileHeld(id, '/stored-once/held');
  const event = await env.stack.store.events.findOne({ tenant: 'default', id });
  expect(event!.claimedUntil!.getTime()).toBeGreaterThan(Date.now());
  const [quick] = await env.stack.store.deliveries.find({ tenant: 'default', eventId: id }).toArray();
  // Written once, with the attempt's outcome: no pending record came before it.
  expect([quick.status, quick.attempts, quick.claimedUntil]).toEqual(['succeeded', 1, undefined]);
  // The held delivery is not stored yet, so its sibling's outcome does not decide the event's status.
  const during = (await env.stack.request('GET', `/v1/events/${id}`)).body;
  expect(during.status).toBe('delivering');
  expect(during.deliveries).toHaveLength(1);

  const view = await finalEvent(id);
  expect(view.status).toBe('delivered');
  expect(view.deliveries.map((d: { status: string; attempts: number }) => [d.status, d.attempts])).toEqual([
    ['succeeded', 1],
    ['succeeded', 1],
  ]);
  expect((await env.stack.store.events.findOne({ tenant: 'default', id }))!.claimedUntil).toBeUndefined();
  expect(env.receiver.received('/stored-once/held')).toHaveLength(1);
}, 60_000);

test('a cancel sent while a fast first attempt is held is signalled to the run, though every stored delivery is final', async () => {
  env.receiver.on('/stored-cancel/held', () => ({ status: 200, delayMs: 3_000 }));
  env.receiver.on('/stored-cancel/quick', () => ({ status: 200 }));
  await subscribe('/stored-cancel/held', ['stored.cancel'], FAST);
  await subscribe('/stored-cancel/quick', ['stored.cancel'], FAST);

  const { id } = await send({ type: 'stored.cancel', data: {} });
  await quickStoredWhileHeld(id, '/stored-cancel/held');
  // The only stored delivery is final: the run still holding the other must be told all the same.
  const cancelled = await env.stack.request('POST', `/v1/events/${id}/cancel`, {});
  expect(cancelled.status).toBe(202);
  expect(cancelled.body.workflowIds).toHaveLength(1);

  // The run sees the cancel once the held attempt ended (a local attempt holds its task): both delivered already.
  const view = await finalEvent(id, 30_000);
  expect(view.deliveries.map((d: { status: string }) => d.status)).toEqual(['succeeded', 'succeeded']);
}, 60_000);

// Fan-out to 1,000 and its speed are `make bench`'s; 200 proves every match gets its own delivery.
test('fan-out to 200 subscriptions delivers to every one of them', async () => {
  const subs = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const res = await env.stack.request('POST', '/v1/subscriptions', {
        channel: 'webhook',
        url: `${env.receiver.url}/many/${i}`,
        eventTypes: ['many.test'],
      });
      return res.status;
    }),
  );
  expect(subs.every((s) => s === 201)).toBe(true);

  const { id } = await send({ type: 'many.test', data: { n: 1 } });
  const progress = setInterval(
    () => console.log(`fan-out: ${env.receiver.requests.filter((r) => r.path.startsWith('/many/')).length} received`),
    10_000,
  );
  const view = await finalEvent(id, 180_000).finally(() => clearInterval(progress));
  expect(view.status).toBe('delivered');
  expect(view.deliveries).toHaveLength(200);
  const paths = new Set(env.receiver.requests.filter((r) => r.path.startsWith('/many/')).map((r) => r.path));
  expect(paths.size).toBe(200);
}, 420_000);
