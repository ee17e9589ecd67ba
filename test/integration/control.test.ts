import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startDeliverEvent } from '../../src/temporal/deliver-event-client';
import { HeraldStatus } from '../../src/temporal/search-attributes';
import { LOCAL_ATTEMPT_MAX_MS } from '../../src/workflows/deliver-event';
import { statusQuery } from '../../src/workflows/definitions';
import * as api from '../harness/api';
import { TOOLS_DIR } from '../harness/servers';
import { eventually, sharedServers, useStack } from '../harness/stack';

/** Steering deliveries: cancel, retry (HTTP and Temporal signal), replay, test, rotate. */

const env = useStack();

const subscribe = (path: string, eventTypes: string[], extra: Record<string, unknown> = {}) =>
  api.subscribe(env.stack, env.receiver, path, eventTypes, extra);
const send = (event: Record<string, unknown>) => api.send(env.stack, event);
const deliveryOf = (view: any) => view.deliveries[0];

/** An event whose only delivery has failed once and now waits `schedule` for its next attempt. */
async function waitingDelivery(path: string, schedule: string[]) {
  env.receiver.on(path, (_req, n) => ({ status: n === 1 ? 500 : 200 }));
  const sub = await subscribe(path, [`wait.${path.slice(1)}`], { retry: { schedule } });
  const { id, workflowId } = await send({ type: `wait.${path.slice(1)}`, data: {} });
  await api.eventWhen(env.stack, id, (v) => deliveryOf(v)?.status === 'retrying', 30_000, 'first attempt failed');
  return { sub, id, workflowId };
}

test('cancel during a long backoff marks the delivery cancelled in under 2 s, and says who asked', async () => {
  const { id, workflowId } = await waitingDelivery('/cancel-backoff', ['1h']);

  const asked = Date.now();
  const res = await env.stack.request('POST', `/v1/events/${id}/cancel`, {});
  expect(res.status).toBe(202);
  expect(res.body.workflowIds).toEqual([workflowId]);
  const view = await api.eventWhen(env.stack, id, (v) => deliveryOf(v).status === 'cancelled', 5000, 'cancelled');
  expect(Date.now() - asked).toBeLessThan(2000);

  expect(view.status).toBe('cancelled');
  expect(deliveryOf(view)).toMatchObject({ attempts: 1, nextAttemptAt: null, error: 'cancelled by key:admin' });
  expect(deliveryOf(view).actions).toEqual([expect.objectContaining({ action: 'cancel', by: 'key:admin' })]);
  expect(env.receiver.received('/cancel-backoff')).toHaveLength(1);
});

test('cancel while the receiver hangs aborts the HTTP request and cancels the delivery', async () => {
  env.receiver.on('/hang', () => ({ status: 200, delayMs: 50_000 }));
  await subscribe('/hang', ['hang.test'], { timeoutMs: 60_000 });
  const { id } = await send({ type: 'hang.test', data: {} });
  await eventually(() => env.receiver.received('/hang').length === 1, 20_000, 'the request to arrive');

  expect((await env.stack.request('POST', `/v1/events/${id}/cancel`, {})).status).toBe(202);
  const view = await api.eventWhen(env.stack, id, (v) => deliveryOf(v).status === 'cancelled', 15_000, 'cancelled');
  await eventually(() => env.receiver.received('/hang')[0].abortedAt !== undefined, 5000, 'the request to be aborted');

  expect(view.status).toBe('cancelled');
  const attempts = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ attempt: 1, response: null, error: 'request aborted: delivery cancelled' });
});

/** The activity types a workflow's history ran, remote (activity tasks) and local (markers). */
async function activityTypes(workflowId: string) {
  const { events } = await env.stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const remote = events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  const local = events!.flatMap((e) => {
    const payload = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
    return payload ? [JSON.parse(Buffer.from(payload).toString()).activity_type as string] : [];
  });
  return { remote, local };
}

test('a receiver allowed more than 5 s (the default 15 s) is attempted by a remote activity', async () => {
  await subscribe('/remote-tier', ['tier.remote']);
  const { id, workflowId } = await send({ type: 'tier.remote', data: {} });
  expect((await api.finalEvent(env.stack, id)).status).toBe('delivered');
  expect((await activityTypes(workflowId)).remote).toEqual(['attemptDelivery']);
});

test('a receiver allowed up to 5 s is attempted by a local activity; a cancel during it applies when the attempt ends', async () => {
  env.receiver.on('/local-hang', () => ({ status: 200, delayMs: 14_000 }));
  await subscribe('/local-hang', ['tier.local'], { timeoutMs: LOCAL_ATTEMPT_MAX_MS });
  const { id, workflowId } = await send({ type: 'tier.local', data: {} });
  await eventually(() => env.receiver.received('/local-hang').length === 1, 20_000, 'the request to arrive');

  const asked = Date.now();
  expect((await env.stack.request('POST', `/v1/events/${id}/cancel`, {})).status).toBe(202);
  const view = await api.eventWhen(env.stack, id, (v) => deliveryOf(v).status === 'cancelled', 20_000, 'cancelled');
  // The signal waits for the attempt, which the receiver's 5 s timeout ends.
  expect(Date.now() - asked).toBeLessThan(LOCAL_ATTEMPT_MAX_MS + 2_000);
  expect(env.receiver.received('/local-hang')[0].abortedAt).toBeDefined();
  expect(view.status).toBe('cancelled');
  expect(deliveryOf(view)).toMatchObject({ attempts: 1, error: 'cancelled by key:admin' });
  const attempts = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
  expect(attempts).toEqual([expect.objectContaining({ attempt: 1, response: null, error: `timed out after ${LOCAL_ATTEMPT_MAX_MS} ms` })]);
  expect(env.receiver.received('/local-hang')).toHaveLength(1);

  const tiers = await activityTypes(workflowId);
  expect(tiers.remote).toEqual([]);
  expect(tiers.local).toContain('openEventWithFirstAttempts'); // a first attempt: made with the event's opening
});

test('retry over HTTP after the receiver recovers delivers within 2 s, keeping the webhook-id', async () => {
  const { id } = await waitingDelivery('/retry-http', ['1h']);

  const asked = Date.now();
  expect((await env.stack.request('POST', `/v1/events/${id}/retry`, {})).status).toBe(202);
  const view = await api.eventWhen(env.stack, id, (v) => v.status === 'delivered', 5000, 'delivered');
  expect(Date.now() - asked).toBeLessThan(2000);

  const got = env.receiver.received('/retry-http');
  expect(got).toHaveLength(2);
  expect(got[1].headers['webhook-id']).toBe(got[0].headers['webhook-id']);
  expect(deliveryOf(view)).toMatchObject({ status: 'succeeded', attempts: 2, messageId: got[0].headers['webhook-id'] });
  expect(deliveryOf(view).actions).toEqual([expect.objectContaining({ action: 'retry', by: 'key:admin' })]);
});

test('retry sent with `temporal workflow signal` has the same effect, and the audit names "temporal"', async () => {
  const { id, workflowId } = await waitingDelivery('/retry-cli', ['1h']);

  await promisify(execFile)(path.join(TOOLS_DIR, 'temporal'), [
    'workflow',
    'signal',
    '--address',
    sharedServers().temporalAddress,
    '--workflow-id',
    workflowId,
    '--name',
    'retry',
    '--input',
    '{}',
  ]);
  // From the signal's acceptance: the CLI's own start (seconds on a busy machine) is not Herald's.
  const asked = Date.now();
  const view = await api.eventWhen(env.stack, id, (v) => v.status === 'delivered', 5000, 'delivered');
  expect(Date.now() - asked).toBeLessThan(2000);

  const got = env.receiver.received('/retry-cli');
  expect(got[1].headers['webhook-id']).toBe(got[0].headers['webhook-id']);
  expect(deliveryOf(view).actions).toEqual([expect.objectContaining({ action: 'retry', by: 'temporal' })]);
});

test('retry after the delivery failed and the workflow closed succeeds on a fresh run', async () => {
  let up = false;
  env.receiver.on('/closed', () => ({ status: up ? 200 : 500 }));
  await subscribe('/closed', ['closed.test'], { retry: { schedule: ['100ms'] } });
  const { id, workflowId } = await send({ type: 'closed.test', data: {} });
  const failed = await api.finalEvent(env.stack, id);
  expect(failed.status).toBe('failed');
  const handle = env.stack.temporal.workflow.getHandle(workflowId);
  await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 10_000, 'the workflow to close');
  const firstRun = (await handle.describe()).runId;
  expect((await handle.describe()).typedSearchAttributes.get(HeraldStatus)).toBe('failed');

  up = true;
  expect((await env.stack.request('POST', `/v1/events/${id}/retry`, {})).status).toBe(202);
  const view = await api.eventWhen(env.stack, id, (v) => v.status === 'delivered', 15_000, 'delivered');

  expect(deliveryOf(view)).toMatchObject({ status: 'succeeded', attempts: 3 });
  const described = await env.stack.temporal.workflow.getHandle(workflowId).describe();
  expect(described.runId).not.toBe(firstRun);
  // The Web UI's HeraldStatus column follows: failed before the retry, delivered after it.
  await eventually(
    async () => (await handle.describe()).typedSearchAttributes.get(HeraldStatus) === 'delivered',
    10_000,
    'HeraldStatus to read delivered',
  );
  const got = env.receiver.received('/closed');
  expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
  // The fresh run started its schedule over: attempt 3 was the first of the new run.
  const attempts = (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
  expect(attempts.map((a: any) => a.attempt)).toEqual([3, 2, 1]);
});

test('while a retry or a replay delivers, the list and its status filter show the event as delivering', async () => {
  // The first attempt fails for good; the retry's and the replay's are answered after 5 s.
  env.receiver.on('/relisted', (_req, n) => (n === 1 ? { status: 500 } : { status: 200, delayMs: 5_000 }));
  await subscribe('/relisted', ['relisted.test'], { retry: { maxAttempts: 1 } });
  const { id } = await send({ type: 'relisted.test', data: {} });
  expect((await api.finalEvent(env.stack, id)).status).toBe('failed');
  const listedAs = async (status: string) =>
    (await env.stack.request('GET', `/v1/events?type=relisted.test&status=${status}`)).body.data.some((e: any) => e.id === id);
  await eventually(() => listedAs('failed'), 10_000, 'the list to say failed');

  expect((await env.stack.request('POST', `/v1/events/${id}/retry`, {})).status).toBe(202);
  await eventually(() => listedAs('delivering'), 4_500, 'the list to say delivering while the retry delivers');
  await eventually(() => listedAs('delivered'), 20_000, 'the list to say delivered after the retry');

  expect((await env.stack.request('POST', `/v1/events/${id}/replay`, {})).status).toBe(202);
  await eventually(() => listedAs('delivering'), 4_500, 'the list to say delivering while the replay delivers');
  await eventually(() => listedAs('delivered'), 20_000, 'the list to say delivered after the replay');
  expect(env.receiver.received('/relisted')).toHaveLength(3);
});

test('replay delivers again as a new message, to all that match or to one subscription', async () => {
  const a = await subscribe('/replay-a', ['replay.test']);
  await subscribe('/replay-b', ['replay.*']);
  const { id } = await send({ type: 'replay.test', data: { n: 1 } });
  await api.finalEvent(env.stack, id);

  const all = await env.stack.request('POST', `/v1/events/${id}/replay`, {});
  expect(all.status).toBe(202);
  expect(all.body.workflowId).toBe(`event/default/${id}/replay/1`);
  await eventually(() => env.receiver.received('/replay-b').length === 2, 15_000, 'the replay to arrive');
  const one = await env.stack.request('POST', `/v1/events/${id}/replay`, { subscriptionId: a.id });
  expect(one.body.workflowId).toBe(`event/default/${id}/replay/2`);
  await eventually(() => env.receiver.received('/replay-a').length === 3, 15_000, 'the second replay to arrive');

  const ids = env.receiver.received('/replay-a').map((r) => r.headers['webhook-id']);
  expect(new Set(ids).size).toBe(3);
  expect(JSON.parse(env.receiver.received('/replay-a')[2].body)).toMatchObject({ id, data: { n: 1 } });
  expect(env.receiver.received('/replay-b')).toHaveLength(2);

  const view = await api.eventWhen(env.stack, id, (v) => v.deliveries.length === 5 && v.status === 'delivered', 15_000, 'all delivered');
  expect(view.deliveries.map((d: any) => d.workflowId).sort()).toEqual(
    [
      `event/default/${id}`,
      `event/default/${id}`,
      `event/default/${id}/replay/1`,
      `event/default/${id}/replay/1`,
      `event/default/${id}/replay/2`,
    ].sort(),
  );
  expect((await env.stack.request('POST', `/v1/events/${id}/replay`, { subscriptionId: 'sub_missing' })).status).toBe(404);
  expect((await env.stack.request('POST', '/v1/events/no-such-event/replay', {})).status).toBe(404);
});

test('a run whose history passes its limit hands waiting deliveries to a new run, which finishes them', async () => {
  for (const path of ['/handoff-a', '/handoff-b']) env.receiver.on(path, (_req, n) => ({ status: n <= 3 ? 500 : 200 }));
  const schedule = { retry: { schedule: ['300ms', '300ms', '300ms', '300ms'] } };
  await subscribe('/handoff-a', ['handoff.test'], schedule);
  await subscribe('/handoff-b', ['handoff.test'], schedule);
  // Started as the API would, with a history limit low enough to be passed within a few attempts.
  const now = new Date().toISOString();
  const event = { id: 'handoff-1', type: 'handoff.test', data: {}, occurredAt: now, receivedAt: now };
  const workflowId = 'event/default/handoff-1';
  await startDeliverEvent(env.stack.temporal, env.stack.taskQueue, workflowId, { tenant: 'default', event, historyLimit: 30 });

  const view = await api.eventWhen(env.stack, event.id, (v) => v.status === 'delivered', 30_000, 'delivered');
  expect(view.deliveries.map((d: any) => d.attempts)).toEqual([4, 4]);
  const runs = [];
  for await (const run of env.stack.temporal.workflow.list({ query: `WorkflowId="${workflowId}"` })) runs.push(run);
  expect(runs.length).toBeGreaterThan(1);
  for (const path of ['/handoff-a', '/handoff-b']) {
    const got = env.receiver.received(path);
    expect(got).toHaveLength(4); // no attempt lost or repeated across the hand-over
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
  }
  const attempts = (await env.stack.request('GET', `/v1/events/${event.id}/attempts`)).body.data;
  expect(attempts).toHaveLength(8);
});

test("GET /v1/events/{id} agrees with the workflow's status query while a delivery waits", async () => {
  const { id, workflowId } = await waitingDelivery('/consistent', ['1h']);
  const [http, query] = await Promise.all([
    env.stack.request('GET', `/v1/events/${id}`),
    env.stack.temporal.workflow.getHandle(workflowId).query(statusQuery),
  ]);
  expect(query.status).toBe('delivering');
  expect(query.deliveries).toEqual(http.body.deliveries);
  expect(deliveryOf(query)).toMatchObject({ status: 'retrying', attempts: 1, lastResponseStatus: 500, error: 'receiver answered 500' });
  expect(Date.parse(deliveryOf(query).nextAttemptAt)).toBeGreaterThan(Date.now() + 30 * 60_000);
  await env.stack.request('POST', `/v1/events/${id}/cancel`, {});
});

test("Herald's worker collects no workflow stack traces unless HERALD_WORKFLOW_STACK_TRACES is set: Temporal's stack trace query says so", async () => {
  const { id, workflowId } = await waitingDelivery('/no-stacks', ['1h']);
  await expect(env.stack.temporal.workflow.getHandle(workflowId).query('__stack_trace')).rejects.toThrow(
    'Workflow stack traces are not enabled on this worker',
  );
  await env.stack.request('POST', `/v1/events/${id}/cancel`, {});
});

test('test sends a herald.ping to that subscription only and answers the outcome', async () => {
  const sub = await subscribe('/ping-ok', ['nothing.matches.this']);
  await subscribe('/ping-other', ['*']);
  const ok = await env.stack.request('POST', `/v1/subscriptions/${sub.id}/test`, {});
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({ status: 'succeeded', attempt: { attempt: 1, response: { status: 200 } } });
  const [ping] = env.receiver.received('/ping-ok');
  expect(JSON.parse(ping.body)).toMatchObject({ type: 'herald.ping', data: { subscriptionId: sub.id } });
  expect(api.signedWith(sub.secret, ping)).toBe(true);
  expect(env.receiver.received('/ping-other')).toHaveLength(0);

  env.receiver.on('/ping-bad', () => ({ status: 500, body: 'down' }));
  const bad = await subscribe('/ping-bad', ['nothing.matches.this']);
  const failed = await env.stack.request('POST', `/v1/subscriptions/${bad.id}/test`, {});
  expect(failed.status).toBe(200);
  expect(failed.body).toMatchObject({ status: 'failed', attempt: { response: { status: 500, body: 'down' } } });
  expect(env.receiver.received('/ping-bad')).toHaveLength(1); // a ping is one attempt

  // A receiver allowed up to 5 s: the ping's attempt goes out as its event's shared first attempts, one all the same.
  env.receiver.on('/ping-bad-fast', () => ({ status: 500, body: 'down' }));
  const fast = await subscribe('/ping-bad-fast', ['nothing.matches.this'], { timeoutMs: LOCAL_ATTEMPT_MAX_MS });
  const fastFailed = await env.stack.request('POST', `/v1/subscriptions/${fast.id}/test`, {});
  expect(fastFailed.body).toMatchObject({ status: 'failed', attempt: { attempt: 1, response: { status: 500 } } });
  expect(env.receiver.received('/ping-bad-fast')).toHaveLength(1);
});

test('rotate-secret: during the overlap each delivery verifies with the old secret and with the new one', async () => {
  const sub = await subscribe('/rotate', ['rotate.test']);
  const rotated = await env.stack.request('POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {});
  expect(rotated.status).toBe(200);
  expect(rotated.body.secret).toMatch(/^whsec_/);
  expect(rotated.body.secret).not.toBe(sub.secret);
  expect((await env.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body.secret).toBeUndefined();

  await send({ type: 'rotate.test', data: {} });
  await eventually(() => env.receiver.received('/rotate').length === 1, 15_000, 'the delivery');
  const [req] = env.receiver.received('/rotate');
  expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
  expect(api.signedWith(sub.secret, req)).toBe(true);
  expect(api.signedWith(rotated.body.secret, req)).toBe(true);
  expect(api.signedWith('whsec_' + Buffer.alloc(32, 7).toString('base64'), req)).toBe(false);
});

test('rotate-secret twice at once: each secret answered signs, beside the one both replaced', async () => {
  const sub = await subscribe('/rotate-twice', ['rotate.twice']);
  const answers = await Promise.all([1, 2].map(() => env.stack.request('POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {})));
  expect(answers.map((a) => a.status)).toEqual([200, 200]);

  await send({ type: 'rotate.twice', data: {} });
  await eventually(() => env.receiver.received('/rotate-twice').length === 1, 15_000, 'the delivery');
  const [req] = env.receiver.received('/rotate-twice');
  expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(3);
  for (const secret of [sub.secret, answers[0].body.secret, answers[1].body.secret]) expect(api.signedWith(secret, req)).toBe(true);
});

test('control routes answer 404 for unknown events and subscriptions, 400 for bad bodies', async () => {
  expect((await env.stack.request('POST', '/v1/events/none/cancel', {})).status).toBe(404);
  expect((await env.stack.request('POST', '/v1/events/none/retry', {})).status).toBe(404);
  expect((await env.stack.request('POST', '/v1/subscriptions/sub_none/test', {})).status).toBe(404);
  expect((await env.stack.request('POST', '/v1/subscriptions/sub_none/rotate-secret', {})).status).toBe(404);
  const sub = await subscribe('/bad-bodies', ['x.y']);
  const bad = await env.stack.request('POST', `/v1/subscriptions/${sub.id}/recover`, { since: 'yesterday' });
  expect(bad.status).toBe(400);
  expect(bad.body.errors[0].path).toBe('since');
  const extra = await env.stack.request('POST', '/v1/events/none/cancel', { subscription: 'x' });
  expect(extra.status).toBe(400);
});
