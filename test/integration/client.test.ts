import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeraldClient, HeraldProblemError, type EventView } from '../../src/client';
import { verifyWebhook } from '../../src/receiver';
import type { ReceivedRequest } from '../harness/receiver';
import { eventually, useStack } from '../harness/stack';

/** The client library against a real stack: every method, checked by what it did, not only by its answer. */

const env = useStack();
let herald: HeraldClient;
beforeAll(() => {
  herald = new HeraldClient({ url: env.stack.url, apiKey: env.stack.adminKey, retries: { baseDelayMs: 50 } });
});

const hook = (path: string) => `${env.receiver.url}${path}`;
const payloadOf = (req: ReceivedRequest, secret: string | string[]) => verifyWebhook(secret, req.body, req.headers);

/** Polls the event through the client until `done` holds. */
const eventWhen = (id: string, done: (view: EventView) => boolean, what: string, timeoutMs = 30_000) =>
  eventually(
    async () => {
      const view = await herald.events.get(id);
      return done(view) ? view : undefined;
    },
    timeoutMs,
    `${id}: ${what}`,
  );

test('events.send generates an evt_ id, delivers a verifiable webhook, and answers duplicate for the same id again', async () => {
  const sub = await herald.subscriptions.create({ channel: 'webhook', url: hook('/send'), eventTypes: ['client.sent'] });
  const accepted = await herald.events.send({ type: 'client.sent', data: { n: 1 }, subject: { type: 'package', id: 'herald' } });
  expect(accepted).toMatchObject({
    id: expect.stringMatching(/^evt_[0-9A-Z]{26}$/),
    duplicate: false,
    workflowId: `event/default/${accepted.id}`,
  });

  const view = await eventWhen(accepted.id, (v) => v.status === 'delivered', 'delivered');
  expect(view.deliveries).toEqual([expect.objectContaining({ subscriptionId: sub.id, status: 'succeeded', attempts: 1 })]);
  const [req] = env.receiver.received('/send');
  expect(payloadOf(req, sub.secret!)).toEqual({
    id: accepted.id,
    type: 'client.sent',
    timestamp: view.event.occurredAt,
    data: { n: 1 },
    subject: { type: 'package', id: 'herald' },
  });

  const again = await herald.events.send({ id: accepted.id, type: 'client.sent', data: { n: 1 } });
  expect(again).toEqual({ ...accepted, duplicate: true });
});

test('a send whose answer is lost to a network error is retried with the same id: stored and delivered once', async () => {
  await herald.subscriptions.create({ channel: 'webhook', url: hook('/lost-answer'), eventTypes: ['client.lost'] });
  let calls = 0;
  // The request reaches the real API; only its answer is thrown away, as a dropped connection would.
  const losingFirstAnswer: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (++calls === 1) throw new TypeError('fetch failed: socket hang up');
    return res;
  };
  const flaky = new HeraldClient({
    url: env.stack.url,
    apiKey: env.stack.adminKey,
    fetch: losingFirstAnswer,
    retries: { baseDelayMs: 50 },
  });
  const accepted = await flaky.events.send({ type: 'client.lost', data: {} });
  expect(calls).toBe(2);
  expect(accepted.duplicate).toBe(true);
  await eventWhen(accepted.id, (v) => v.status === 'delivered', 'delivered');
  await new Promise((r) => setTimeout(r, 500));
  expect(env.receiver.received('/lost-answer')).toHaveLength(1);
  expect((await herald.events.list({ type: 'client.lost' })).data.map((e) => e.id)).toEqual([accepted.id]);
});

test('events.sendBatch answers in input order, and a batch with a bad item throws a typed 400 naming it', async () => {
  const results = await herald.events.sendBatch([
    { id: 'batch-a', type: 'client.batch', data: {} },
    { type: 'client.batch', data: {} },
    { id: 'batch-c', type: 'client.batch', data: {} },
  ]);
  expect(results.map((r) => r.id)).toEqual(['batch-a', expect.stringMatching(/^evt_/), 'batch-c']);
  expect(results.every((r) => !r.duplicate)).toBe(true);

  const error = await herald.events
    .sendBatch([
      { type: 'client.batch', data: {} },
      { type: 'Not A Type', data: {} },
    ])
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HeraldProblemError);
  const problem = error as HeraldProblemError;
  expect(problem).toMatchObject({ status: 400, title: expect.any(String), type: expect.any(String), detail: expect.any(String) });
  expect(problem.errors).toEqual([expect.objectContaining({ path: 'events.1.type' })]);
});

test('events.sendBatchLater sends Prefer: respond-async: answered with the batch workflow and each event workflow, then each event is delivered', async () => {
  const sub = await herald.subscriptions.create({ channel: 'webhook', url: hook('/later'), eventTypes: ['client.later'] });
  const accepted = await herald.events.sendBatchLater([
    { id: 'later-a', type: 'client.later', data: {} },
    { type: 'client.later', data: {} },
  ]);
  expect(accepted).toEqual({
    workflowId: expect.stringMatching(/^events-batch\/default\/\d+$/),
    runId: expect.any(String),
    results: [
      { id: 'later-a', workflowId: 'event/default/later-a' },
      { id: expect.stringMatching(/^evt_/), workflowId: expect.stringMatching(/^event\/default\/evt_/) },
    ],
  });
  for (const { id } of accepted.results) {
    const view = await eventWhen(id, (v) => v.status === 'delivered', 'delivered');
    expect(view.deliveries).toEqual([expect.objectContaining({ subscriptionId: sub.id, status: 'succeeded' })]);
  }
  const ids = env.receiver.received('/later').map((r) => (payloadOf(r, sub.secret!) as { id: string }).id);
  expect(ids.sort()).toEqual(accepted.results.map((r) => r.id).sort());
});

test('events.list pages with nextCursor and events.iterate follows it to the end, newest first', async () => {
  const sent = [];
  for (let n = 0; n < 5; n++) sent.push((await herald.events.send({ type: 'client.paged', data: { n }, correlationId: 'paging' })).id);
  // The workflows write the audit a moment after the 202.
  await eventually(async () => (await herald.events.list({ correlationId: 'paging' })).data.length === 5, 15_000, 'all five in the audit');
  const first = await herald.events.list({ correlationId: 'paging', limit: 2 });
  expect(first.data).toHaveLength(2);
  expect(first.nextCursor).toEqual(expect.any(String));
  expect(first.data[0]).toMatchObject({ type: 'client.paged', status: expect.any(String) });

  const all = [];
  for await (const event of herald.events.iterate({ correlationId: 'paging', limit: 2 })) all.push(event.id);
  expect(all).toEqual([...sent].reverse());
});

test('events.attempts lists each attempt with its request and the response', async () => {
  env.receiver.on('/attempts', (_req, n) => ({ status: n === 1 ? 500 : 200, body: n === 1 ? 'boom' : 'fine' }));
  await herald.subscriptions.create({
    channel: 'webhook',
    url: hook('/attempts'),
    eventTypes: ['client.attempts'],
    retry: { schedule: ['200ms'] },
  });
  const { id } = await herald.events.send({ type: 'client.attempts', data: {} });
  await eventWhen(id, (v) => v.status === 'delivered', 'delivered');
  const attempts = await herald.events.attempts(id);
  expect(attempts.map((a) => [a.attempt, a.response?.status, a.response?.body]).sort()).toEqual([
    [1, 500, 'boom'],
    [2, 200, 'fine'],
  ]);
  expect(attempts[0].request.headers['webhook-signature']).toMatch(/^v1,/);
});

/** An event whose delivery failed once and now waits an hour for its next attempt. */
async function waitingEvent(path: string) {
  env.receiver.on(path, (_req, n) => ({ status: n === 1 ? 500 : 200 }));
  const sub = await herald.subscriptions.create({
    channel: 'webhook',
    url: hook(path),
    eventTypes: [`client.wait${path.replace('/', '.')}`],
    retry: { schedule: ['1h'] },
  });
  const { id, workflowId } = await herald.events.send({ type: `client.wait${path.replace('/', '.')}`, data: {} });
  await eventWhen(id, (v) => v.deliveries[0]?.status === 'retrying', 'first attempt failed');
  return { sub, id, workflowId };
}

test('events.cancel cancels a delivery waiting for its next attempt', async () => {
  const { id, workflowId } = await waitingEvent('/cancel');
  expect(await herald.events.cancel(id)).toEqual({ workflowIds: [workflowId] });
  const view = await eventWhen(id, (v) => v.status === 'cancelled', 'cancelled', 10_000);
  expect(view.deliveries[0]).toMatchObject({ status: 'cancelled', attempts: 1 });
  expect(env.receiver.received('/cancel')).toHaveLength(1);
});

test('events.retry attempts a waiting delivery now instead of in an hour', async () => {
  const { sub, id, workflowId } = await waitingEvent('/retry');
  expect(await herald.events.retry(id, { subscriptionId: sub.id })).toEqual({ workflowIds: [workflowId] });
  const view = await eventWhen(id, (v) => v.status === 'delivered', 'delivered', 15_000);
  expect(view.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
});

test('events.replay delivers the stored event again as a new message', async () => {
  await herald.subscriptions.create({ channel: 'webhook', url: hook('/replay'), eventTypes: ['client.replay'] });
  const { id } = await herald.events.send({ type: 'client.replay', data: { v: 1 } });
  await eventWhen(id, (v) => v.status === 'delivered', 'delivered');
  const { workflowId } = await herald.events.replay(id);
  expect(workflowId).toBe(`event/default/${id}/replay/1`);
  await eventually(() => env.receiver.received('/replay').length === 2, 15_000, 'the replayed delivery');
  const [first, second] = env.receiver.received('/replay');
  expect(second.headers['webhook-id']).not.toBe(first.headers['webhook-id']);
  expect(JSON.parse(second.body)).toEqual(JSON.parse(first.body));
});

test('subscriptions: create, get, list, iterate, update and delete', async () => {
  const created = await herald.subscriptions.create({
    name: 'crud',
    channel: 'webhook',
    url: hook('/crud'),
    eventTypes: ['crud.*'],
    headers: { 'x-team': 'a' },
  });
  expect(created).toMatchObject({ name: 'crud', active: true, timeoutMs: 15000, secret: expect.stringMatching(/^whsec_/) });
  const got = await herald.subscriptions.get(created.id);
  expect(got).toEqual({ ...created, secret: undefined, headers: { 'x-team': 'a' } });
  expect(got.secret).toBeUndefined();

  const page = await herald.subscriptions.list({ limit: 1 });
  expect(page.data).toHaveLength(1);
  const ids = [];
  for await (const s of herald.subscriptions.iterate({ limit: 2 })) ids.push(s.id);
  expect(ids).toContain(created.id);
  expect(new Set(ids).size).toBe(ids.length);

  const updated = await herald.subscriptions.update(created.id, { name: 'renamed', eventTypes: ['crud.changed'], active: false });
  expect(updated).toMatchObject({ id: created.id, name: 'renamed', eventTypes: ['crud.changed'], active: false });
  expect(await herald.subscriptions.get(created.id)).toMatchObject({ name: 'renamed', active: false });

  await herald.subscriptions.delete(created.id);
  const gone = await herald.subscriptions.get(created.id).catch((e: unknown) => e);
  expect(gone).toBeInstanceOf(HeraldProblemError);
  expect(gone).toMatchObject({ status: 404, title: 'Not found' });
});

test('subscriptions.test sends a herald.ping and answers the attempt', async () => {
  const sub = await herald.subscriptions.create({ channel: 'webhook', url: hook('/ping'), eventTypes: ['nothing.else'] });
  const result = await herald.subscriptions.test(sub.id);
  expect(result).toMatchObject({
    status: 'succeeded',
    delivery: { subscriptionId: sub.id, status: 'succeeded' },
    attempt: { response: { status: 200 } },
  });
  const [req] = env.receiver.received('/ping');
  expect(payloadOf(req, sub.secret!)).toMatchObject({ id: result.eventId, type: 'herald.ping' });
});

test('subscriptions.rotateSecret: the next delivery verifies with the new secret and with the old one', async () => {
  const sub = await herald.subscriptions.create({ channel: 'webhook', url: hook('/rotate'), eventTypes: ['client.rotate'] });
  const rotated = await herald.subscriptions.rotateSecret(sub.id);
  expect(rotated.secret).toMatch(/^whsec_/);
  expect(rotated.secret).not.toBe(sub.secret);
  await herald.events.send({ type: 'client.rotate', data: {} });
  await eventually(() => env.receiver.received('/rotate').length === 1, 15_000, 'the delivery');
  const [req] = env.receiver.received('/rotate');
  expect(payloadOf(req, rotated.secret!)).toMatchObject({ type: 'client.rotate' });
  expect(payloadOf(req, sub.secret!)).toMatchObject({ type: 'client.rotate' });
});

test('subscriptions.recover redelivers the failed deliveries in the window', async () => {
  let up = false;
  env.receiver.on('/recover', () => ({ status: up ? 200 : 500 }));
  const sub = await herald.subscriptions.create({
    channel: 'webhook',
    url: hook('/recover'),
    eventTypes: ['client.recover'],
    retry: { maxAttempts: 1 },
  });
  const since = new Date().toISOString();
  const { id } = await herald.events.send({ type: 'client.recover', data: {} });
  await eventWhen(id, (v) => v.status === 'failed', 'failed');

  up = true;
  const { workflowId } = await herald.subscriptions.recover(sub.id, { since });
  expect(workflowId).toMatch(new RegExp(`^recover/default/${sub.id}/`));
  await eventWhen(id, (v) => v.status === 'delivered', 'delivered after recovery');
  expect(env.receiver.received('/recover').at(-1)).toBeDefined();
});

test('apiKeys: create a scoped key, list it, use it, revoke it (then 401)', async () => {
  const created = await herald.apiKeys.create({ name: 'reader', tenant: 'client-test', scopes: ['events:read'] });
  expect(created).toMatchObject({ tenant: 'client-test', scopes: ['events:read'], revokedAt: null, key: expect.any(String) });
  const listed = [];
  for await (const k of herald.apiKeys.iterate({ limit: 1 })) listed.push(k);
  const listedKey = listed.find((k) => k.id === created.id);
  expect(listedKey).toMatchObject({ name: 'reader', prefix: created.prefix });
  expect(listedKey).not.toHaveProperty('key');

  const reader = new HeraldClient({ url: env.stack.url, apiKey: created.key! });
  // Its tenant sees none of the default tenant's many client.* events (only its own herald.api_key.created).
  expect(await reader.events.list({ type: 'client.*' })).toEqual({ data: [], nextCursor: null });
  await expect(reader.events.send({ type: 'x.y', data: {} })).rejects.toMatchObject({ status: 403 });

  await herald.apiKeys.revoke(created.id);
  expect((await herald.apiKeys.list({ limit: 200 })).data.find((k) => k.id === created.id)?.revokedAt).toEqual(expect.any(String));
  await expect(reader.events.list()).rejects.toMatchObject({ name: 'HeraldProblemError', status: 401 });
});

test('apiKeys: an expiring key limited to a resource; past its expiry the client throws a key-expired problem', async () => {
  const expiresAt = new Date(Date.now() + 4_000).toISOString(); // room for the calls made before it expires, on a busy machine
  const created = await herald.apiKeys.create({
    name: 'deploys',
    tenant: 'client-limits',
    scopes: ['events:write', 'events:read'],
    expiresAt,
    subjects: [{ type: 'package', id: 'herald' }],
    eventTypes: ['deploy.*'],
  });
  expect(created).toMatchObject({ expiresAt, subjects: [{ type: 'package', id: 'herald' }], eventTypes: ['deploy.*'] });
  const deploys = new HeraldClient({ url: env.stack.url, apiKey: created.key! });
  const sent = await deploys.events.send({ type: 'deploy.started', subject: { type: 'package', id: 'herald' }, data: {} });
  expect(sent.duplicate).toBe(false);
  await expect(deploys.events.send({ type: 'deploy.started', subject: { type: 'package', id: 'other' }, data: {} })).rejects.toMatchObject({
    name: 'HeraldProblemError',
    status: 403,
  });
  // The clock is the condition: the key stops working at expiresAt.
  await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 50));
  await expect(deploys.events.list()).rejects.toMatchObject({
    name: 'HeraldProblemError',
    status: 401,
    type: 'https://herald.dev/problems/key-expired',
  });
});

test('429 and 503 are retried after Retry-After, within the bounded attempts', async () => {
  // A real loopback proxy in front of the API that refuses the first two requests.
  let seen = 0;
  const proxy = http.createServer((req, res) => {
    seen++;
    if (seen === 1)
      return void res
        .writeHead(429, { 'retry-after': '1', 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ type: 'about:blank', title: 'Too many requests', status: 429 }));
    if (seen === 2) return void res.writeHead(503, { 'retry-after': '1' }).end();
    const upstream = http.request(`${env.stack.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const started = Date.now();
    const accepted = await new HeraldClient({ url, apiKey: env.stack.adminKey }).events.send({ type: 'client.throttled', data: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(seen).toBe(3);
    expect(accepted.duplicate).toBe(false);

    seen = 0;
    const impatient = new HeraldClient({ url, apiKey: env.stack.adminKey, retries: { attempts: 1 } });
    await expect(impatient.events.send({ type: 'client.throttled', data: {} })).rejects.toMatchObject({
      status: 429,
      title: 'Too many requests',
    });
  } finally {
    await new Promise((resolve) => proxy.close(resolve));
  }
});
