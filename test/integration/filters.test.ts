import * as api from '../harness/api';
import { useStack } from '../harness/stack';

/** Subscription filters against the real stack: what passes is delivered, what does not is listed on the event. */

const env = useStack();

const subscribe = (path: string, eventTypes: string[], extra: Record<string, unknown> = {}) =>
  api.subscribe(env.stack, env.receiver, path, eventTypes, extra);
const send = (event: Record<string, unknown>) => api.send(env.stack, event);
const finalEvent = (id: string) => api.finalEvent(env.stack, id);
const receivedIds = (path: string) => env.receiver.received(path).map((r) => (JSON.parse(r.body) as { id: string }).id);

test('only the events passing a filter are delivered; the subscriptions they fail are listed in filteredOut', async () => {
  const large = await subscribe('/filters/large', ['payment.*'], {
    filter: { 'data.env': 'prod', 'data.amount': { $gte: 100 }, 'subject.type': { $in: ['package', 'origin'] } },
  });
  const notEu = await subscribe('/filters/not-eu', ['payment.*'], {
    filter: { $or: [{ 'data.region': { $ne: 'eu' } }, { actor: { $exists: false } }] },
  });
  const all = await subscribe('/filters/all', ['payment.*']);
  await subscribe('/filters/other-type', ['invoice.*'], { filter: { 'data.env': 'staging' } });

  const subject = { type: 'package', id: 'herald' };
  await send({ id: 'flt-pass', type: 'payment.captured', subject, actor: 'ci', data: { env: 'prod', amount: 150, region: 'us' } });
  await send({ id: 'flt-small', type: 'payment.captured', subject, actor: 'ci', data: { env: 'prod', amount: 99, region: 'eu' } });
  await send({ id: 'flt-none', type: 'payment.captured', data: { env: 'prod', amount: 500, region: 'eu', nested: { deep: true } } });

  const pass = await finalEvent('flt-pass');
  expect(pass.status).toBe('delivered');
  expect(pass.deliveries.map((d: { subscriptionId: string }) => d.subscriptionId).sort()).toEqual([all.id, large.id, notEu.id].sort());
  expect(pass.filteredOut).toEqual([]);

  const small = await finalEvent('flt-small');
  expect(small.deliveries.map((d: { subscriptionId: string }) => d.subscriptionId)).toEqual([all.id]);
  expect(small.filteredOut).toEqual([large.id, notEu.id].sort());

  // No subject and no actor: the first filter fails on subject.type, the second passes on the missing actor.
  const none = await finalEvent('flt-none');
  expect(none.deliveries.map((d: { subscriptionId: string }) => d.subscriptionId).sort()).toEqual([all.id, notEu.id].sort());
  expect(none.filteredOut).toEqual([large.id]);

  expect(receivedIds('/filters/large')).toEqual(['flt-pass']);
  expect(receivedIds('/filters/not-eu').sort()).toEqual(['flt-none', 'flt-pass']);
  expect(receivedIds('/filters/all').sort()).toEqual(['flt-none', 'flt-pass', 'flt-small']);
  expect(receivedIds('/filters/other-type')).toEqual([]);
});

test('an event every filter refuses is delivered at once, with no delivery, and lists them all', async () => {
  const a = await subscribe('/filters/refuse-a', ['audit.entry'], { filter: { 'data.level': 'error' } });
  const b = await subscribe('/filters/refuse-b', ['audit.*'], { filter: { $not: { 'data.level': { $in: ['info', 'debug'] } } } });
  await send({ id: 'flt-refused', type: 'audit.entry', data: { level: 'info' } });
  const view = await finalEvent('flt-refused');
  expect(view).toMatchObject({ status: 'delivered', deliveries: [] });
  expect(view.filteredOut).toEqual([a.id, b.id].sort());
  expect(env.receiver.received('/filters/refuse-a')).toHaveLength(0);
  expect(env.receiver.received('/filters/refuse-b')).toHaveLength(0);
});

test('a filter with "$" operators and dotted paths is shown as it was saved, changed by PATCH and removed with null', async () => {
  const filter = { 'data.build.branch': 'main', $and: [{ 'data.build.number': { $gt: 10 } }] };
  const sub = await subscribe('/filters/patched', ['build.finished'], { filter });
  expect((await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body.filter).toEqual(filter);

  await send({ id: 'flt-before', type: 'build.finished', data: { build: { branch: 'dev', number: 11 } } });
  expect((await finalEvent('flt-before')).filteredOut).toEqual([sub.id]);

  const patched = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { filter: { 'data.build.branch': 'dev' } });
  expect(patched.status).toBe(200);
  expect(patched.body.filter).toEqual({ 'data.build.branch': 'dev' });
  await send({ id: 'flt-patched', type: 'build.finished', data: { build: { branch: 'dev', number: 1 } } });
  expect((await finalEvent('flt-patched')).deliveries).toHaveLength(1);

  const removed = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { filter: null });
  expect(removed.status).toBe(200);
  expect(removed.body).not.toHaveProperty('filter');
  await send({ id: 'flt-removed', type: 'build.finished', data: { build: { branch: 'release' } } });
  expect((await finalEvent('flt-removed')).deliveries).toHaveLength(1);

  expect(receivedIds('/filters/patched')).toEqual(['flt-patched', 'flt-removed']);
});

test("an event carries the tenant's subscriptions version read after its request arrived: a change answered before it applies", async () => {
  const sub = await subscribe('/filters/versioned', ['build.versioned']);
  expect((await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { filter: { 'data.n': 2 } })).status).toBe(200);
  const { workflowId } = await send({ id: 'flt-versioned', type: 'build.versioned', data: { n: 1 } });
  // Its worker matches it without reading the version when its cache is at least this new.
  const { events } = await env.stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const input = events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0].data!;
  const stored = await env.stack.store.tenantVersions.findOne({ _id: 'default' });
  expect(stored?.subscriptions).toBeGreaterThan(0);
  expect(JSON.parse(Buffer.from(input).toString())).toMatchObject({ subscriptionsVersion: stored!.subscriptions });
  expect((await finalEvent('flt-versioned')).filteredOut).toEqual([sub.id]);
});

test('an unknown operator or a malformed filter is a 400 naming its path, on create and on update', async () => {
  const create = await env.stack.request('POST', '/v1/subscriptions', {
    channel: 'webhook',
    url: `${env.receiver.url}/filters/never`,
    eventTypes: ['payment.*'],
    filter: { 'data.amount': { $gte: 100, $regex: '^1' } },
  });
  expect(create.status).toBe(400);
  expect(create.body.errors).toEqual([{ path: 'filter.data.amount.$regex', message: expect.stringMatching(/^is not an operator/) }]);

  const sub = await subscribe('/filters/update-refused', ['payment.*']);
  const update = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, {
    filter: { $or: [{ actor: 'ci' }, { 'data.tags': { $in: 'urgent' } }], colour: 'red' },
  });
  expect(update.status).toBe(400);
  expect(update.body.errors.map((e: { path: string }) => e.path)).toEqual(['filter.$or.1.data.tags.$in', 'filter.colour']);
  expect((await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body).not.toHaveProperty('filter');
});
