import { Client } from '@temporalio/client';
import { createActivityCaches } from '../../src/activities/caches';
import { createSubscriptionHealth } from '../../src/activities/subscription-health';
import { createLogger } from '../../src/logger';
import { findSubscription } from '../../src/store/subscriptions';
import { temporalGateway } from '../../src/temporal/activity-gateway';
import * as api from '../harness/api';
import { eventually, useStack } from '../harness/stack';

/** Auto-disable of failing endpoints, and Herald's own `herald.subscription.*` events that announce it and every other change. */

// Continuous failure disables after 2 s here, instead of the default 5 days.
const env = useStack({ workerEnv: { HERALD_DISABLE_AFTER: '2s' } });
let watcher: { id: string };

beforeAll(async () => {
  watcher = await api.subscribe(env.stack, env.receiver, '/watcher', ['herald.*']);
});

const subscribe = (path: string, eventTypes: string[], extra: Record<string, unknown> = {}) =>
  api.subscribe(env.stack, env.receiver, path, eventTypes, extra);

/** The `herald.*` events the watcher received about one subscription. */
function heraldEventsAbout(subscriptionId: string): any[] {
  return env.receiver
    .received('/watcher')
    .map((r) => JSON.parse(r.body))
    .filter((e) => e.subject?.id === subscriptionId);
}

test('every subscription change emits its herald.subscription.* event, delivered to a herald.* subscriber', async () => {
  const sub = await subscribe('/changes', ['x.y']);
  expect((await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { name: 'renamed' })).status).toBe(200);
  expect((await env.stack.request('POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {})).status).toBe(200);
  expect((await env.stack.request('DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(204);

  await eventually(() => heraldEventsAbout(sub.id).length === 4, 20_000, 'four change events');
  const events = heraldEventsAbout(sub.id);
  expect(events.map((e) => e.type).sort()).toEqual([
    'herald.subscription.created',
    'herald.subscription.deleted',
    'herald.subscription.updated',
    'herald.subscription.updated',
  ]);
  for (const e of events) {
    expect(e).toMatchObject({ actor: 'key:admin', subject: { type: 'subscription', id: sub.id } });
    expect(JSON.stringify(e)).not.toContain(sub.secret); // secrets never travel in events
  }
  // Herald's own events are opt-in: "*" does not get them.
  const everything = await subscribe('/everything', ['*']);
  await api.send(env.stack, { type: 'platform.thing', data: {} });
  await eventually(() => env.receiver.received('/everything').length === 1, 15_000, 'the platform event');
  await new Promise((r) => setTimeout(r, 500));
  expect(env.receiver.received('/everything').map((r) => JSON.parse(r.body).type)).toEqual(['platform.thing']);
  await env.stack.request('DELETE', `/v1/subscriptions/${everything.id}`);
});

test('a 410 disables the subscription at once and emits herald.subscription.disabled', async () => {
  env.receiver.on('/gone', () => ({ status: 410 }));
  const sub = await subscribe('/gone', ['gone.test']);
  const { id } = await api.send(env.stack, { type: 'gone.test', data: {} });

  const view = await api.finalEvent(env.stack, id);
  expect(view.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, lastResponseStatus: 410 });
  const after = (await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body;
  expect(after).toMatchObject({ active: false, disabledReason: 'endpoint answered 410 Gone' });
  expect(after.disabledAt).toEqual(expect.any(String));

  await eventually(() => heraldEventsAbout(sub.id).some((e) => e.type === 'herald.subscription.disabled'), 15_000, 'the disabled event');
  const disabled = heraldEventsAbout(sub.id).find((e) => e.type === 'herald.subscription.disabled');
  expect(disabled.data).toMatchObject({ reason: 'endpoint answered 410 Gone', subscription: { id: sub.id, active: false } });

  // A disabled subscription gets no new deliveries.
  const next = await api.send(env.stack, { type: 'gone.test', data: {} });
  expect((await api.finalEvent(env.stack, next.id)).deliveries).toEqual([]);
  expect(env.receiver.received('/gone')).toHaveLength(1);

  // The disable's wake-up of the subscription's waiting deliveries reached the one that got the
  // 410 too; it stays failed with the receiver's answer, not reopened and failed again as disabled.
  const first = (await env.stack.request('GET', `/v1/events/${id}`)).body;
  expect(first.status).toBe('failed');
  expect(first.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, lastResponseStatus: 410, actions: [] });
  expect(first.deliveries[0].error).not.toMatch(/subscription_disabled/);
});

test('failing without a success for HERALD_DISABLE_AFTER disables it; its waiting deliveries fail as subscription_disabled', async () => {
  // One event is told to come back in an hour; the others just fail.
  env.receiver.on('/failing', (req) =>
    JSON.parse(req.body).type === 'failing.later' ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 500 },
  );
  const sub = await subscribe('/failing', ['failing.*'], { retry: { schedule: ['1s', '1s', '1s', '1s', '1s', '1s', '1s', '1s'] } });
  const later = await api.send(env.stack, { type: 'failing.later', data: {} });
  await api.eventWhen(env.stack, later.id, (v) => v.deliveries[0]?.status === 'retrying', 15_000, 'the first to wait an hour');
  const { id } = await api.send(env.stack, { type: 'failing.now', data: {} });

  const view = await api.finalEvent(env.stack, id, 30_000);
  expect(view.deliveries[0].status).toBe('failed');
  expect(view.deliveries[0].error).toContain('subscription_disabled');
  // Disabled before its schedule ran out; on a slow machine its first attempt may be 2 s after the streak began already.
  expect(view.deliveries[0].attempts).toBeLessThan(9);
  const after = (await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body;
  expect(after.active).toBe(false);
  expect(after.disabledReason).toMatch(/^failing without a success since /);
  await eventually(() => heraldEventsAbout(sub.id).some((e) => e.type === 'herald.subscription.disabled'), 15_000, 'the disabled event');

  // The delivery that was waiting an hour fails now, without another request.
  const woken = await api.finalEvent(env.stack, later.id, 10_000);
  expect(woken.deliveries[0]).toMatchObject({ status: 'failed', error: 'subscription_disabled', attempts: 1 });
  expect(env.receiver.received('/failing').filter((r) => JSON.parse(r.body).type === 'failing.later')).toHaveLength(1);
});

test('deleting a subscription fails its deliveries that wait for a next attempt now, not at that attempt', async () => {
  env.receiver.on('/deleted', () => ({ status: 500 }));
  const sub = await subscribe('/deleted', ['deleted.test'], { retry: { schedule: ['1h'] } });
  const { id } = await api.send(env.stack, { type: 'deleted.test', data: {} });
  await api.eventWhen(env.stack, id, (v) => v.deliveries[0]?.status === 'retrying', 15_000, 'the delivery to wait an hour');

  expect((await env.stack.request('DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(204);
  const view = await api.finalEvent(env.stack, id, 10_000);
  expect(view.status).toBe('failed');
  expect(view.deliveries[0]).toMatchObject({ status: 'failed', error: 'subscription_deleted', attempts: 1 });
  expect(env.receiver.received('/deleted')).toHaveLength(1);
});

test('a 410 that disables the subscription is answered, though Temporal refuses its herald.subscription.disabled', async () => {
  const sub = await subscribe('/refused-announcement', ['refused.announcement']);
  const doc = (await findSubscription(env.stack.store, 'default', sub.id))!;
  // A real refusal: Temporal answers NOT_FOUND for a namespace it does not have.
  const elsewhere = new Client({ connection: env.stack.temporal.connection, namespace: 'no-such-namespace' });
  const errors: unknown[] = [];
  const logger = createLogger('test', 'silent');
  logger.error = (...args: unknown[]) => void errors.push(args);
  const caches = createActivityCaches(env.stack.store);
  const health = createSubscriptionHealth({
    store: env.stack.store,
    gateway: temporalGateway(elsewhere, 'herald'),
    caches,
    logger,
    disableAfterMs: 60_000,
  });
  const before = await caches.matchable('default');
  expect(before.subs.map((s) => s.doc._id)).toContain(sub.id);

  // The attempt goes on to record the receiver's 410; before, this threw, and the retried
  // attempt found the subscription disabled and closed the delivery without that record.
  await expect(health.track(doc, false, true, new Date())).resolves.toBe(true);
  // An event accepted before the disable, matched on this worker after it, no longer goes to it.
  expect((await caches.matchable('default', before.version)).subs.map((s) => s.doc._id)).not.toContain(sub.id);
  expect((await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body).toMatchObject({
    active: false,
    disabledReason: 'endpoint answered 410 Gone',
  });
  expect(errors).toHaveLength(1);
  expect(JSON.stringify(errors[0])).toContain('could not emit herald.subscription.disabled');
});

test('an attempt that read the subscription before a success ended its failing streak, or before it was re-enabled, disables nothing', async () => {
  const sub = await subscribe('/stale-streak', ['stale.streak']);
  const health = createSubscriptionHealth({
    store: env.stack.store,
    gateway: temporalGateway(env.stack.temporal, env.stack.taskQueue),
    caches: createActivityCaches(env.stack.store),
    logger: createLogger('test', 'silent'),
    disableAfterMs: 60_000,
  });
  const longAgo = new Date(Date.now() - 120_000);
  await env.stack.store.subscriptions.updateOne({ _id: sub.id }, { $set: { failingSince: longAgo } });
  const read = (await findSubscription(env.stack.store, 'default', sub.id))!; // as an attempt reads it before its send
  await health.track(read, true, false, new Date()); // meanwhile another attempt succeeds: the streak ends
  await expect(health.track(read, false, false, new Date())).resolves.toBe(false);
  expect((await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body).toMatchObject({ active: true });

  // Disabled by its streak, then re-enabled: an attempt that read it before the disable changes nothing.
  await env.stack.store.subscriptions.updateOne({ _id: sub.id }, { $set: { failingSince: longAgo } });
  const before = (await findSubscription(env.stack.store, 'default', sub.id))!;
  await expect(health.track(before, false, false, new Date())).resolves.toBe(true);
  expect((await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { active: true })).status).toBe(200);
  await expect(health.track(before, false, false, new Date())).resolves.toBe(false);
  expect((await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body).toMatchObject({ active: true });
});

test('re-enabling clears the disabled marks and deliveries flow again', async () => {
  env.receiver.on('/back', (_req, n) => ({ status: n === 1 ? 410 : 200 }));
  const sub = await subscribe('/back', ['back.test']);
  await api.finalEvent(env.stack, (await api.send(env.stack, { type: 'back.test', data: {} })).id);
  expect((await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body.active).toBe(false);

  const enabled = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { active: true });
  expect(enabled.body.active).toBe(true);
  expect(enabled.body.disabledAt).toBeUndefined();
  const view = await api.finalEvent(env.stack, (await api.send(env.stack, { type: 'back.test', data: {} })).id);
  expect(view.status).toBe('delivered');
  expect(watcher.id).toMatch(/^sub_/);
});
