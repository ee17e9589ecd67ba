import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { FIRST_ATTEMPTS_PER_ACTIVITY, LOCAL_ATTEMPT_MAX_MS, type deliverEvent } from '../../src/workflows/deliver-event';
import {
  cancelSignal,
  DELIVER_EVENT_REVISION,
  retrySignal,
  statusQuery,
  type ControlRequest,
  type DeliverEventInput,
} from '../../src/workflows/definitions';
import { sendRetry } from '../../src/temporal/deliver-event-client';
import { DELIVER_EVENT_WORKFLOW, eventWorkflowId } from '../../src/temporal/names';
import { TRACKED_ERROR_MAX } from '../../src/activities/delivery-state';
import { DEFAULT_MAX_SUBSCRIPTIONS } from '../../src/config';
import { eventOf, gate, MATCHED_AT_VERSION, OPENING_CLAIM_UNTIL, type Plan } from './fake-audit';
import { startWorkflowEnv, type WorkflowEnv } from './workflow-env';

/**
 * `deliverEvent`'s own logic, one path per test: the tiers of an attempt, the retry schedule
 * and the signals that steer it, continue-as-new with what it carries, and a cancel from
 * Temporal. The activities are in memory (fake-audit.ts); Temporal is the project's own.
 */

let env: WorkflowEnv;
beforeAll(async () => {
  env = await startWorkflowEnv();
}, 120_000);
afterAll(() => env?.stop());

const LOCAL = LOCAL_ATTEMPT_MAX_MS; // a receiver fast enough for a local attempt
const REMOTE = LOCAL_ATTEMPT_MAX_MS + 5_000; // one that gets an activity task of its own
/** Far longer than any test: a delivery that attempts again before it was asked to is seen. */
const LATER = 600_000;

let n = 0;
function start(plan: Plan, input: Partial<DeliverEventInput> = {}, taskQueue = env.taskQueue) {
  const id = `evt-${++n}-${Date.now()}`;
  const seen = env.audit.plan(id, plan);
  const args: DeliverEventInput = { tenant: 't1', event: eventOf(id), revision: DELIVER_EVENT_REVISION, ...input };
  const handle = env.client.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
    workflowId: `wf-${id}`,
    taskQueue,
    args: [args],
  });
  return { id, seen, args, handle };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function eventTypes(handle: WorkflowHandle, runId?: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
  return (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
}

const by = (requestedBy: string) => ({ requestedBy });

test('delivers to every matching subscription, a fast receiver as a local activity and a slow one as an activity task', async () => {
  const { seen, handle } = start({
    subscriptions: [
      { id: 'fast', timeoutMs: LOCAL },
      { id: 'slow', timeoutMs: REMOTE },
    ],
  });
  const view = await (await handle).result();
  expect(view.status).toBe('delivered');
  expect(view.deliveries.map((d) => [d.subscriptionId, d.status, d.attempts])).toEqual([
    ['fast', 'succeeded', 1],
    ['slow', 'succeeded', 1],
  ]);
  expect(seen.recorded).toEqual(['delivering']);
  expect(seen.finished).toEqual(['delivered']);
  const types = await eventTypes(await handle);
  // One activity task (the slow receiver's attempt); the opening with the fast attempt, and the
  // status at the end, are markers, with no patch markers: the revision in the input decides.
  expect(types.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')).toHaveLength(1);
  expect(types.filter((t) => t === 'EVENT_TYPE_MARKER_RECORDED')).toHaveLength(2);
});

test('the first attempts to fast receivers go out in the local activity that opens the event, which also records the status they end it with', async () => {
  const { id, seen, handle } = start({
    subscriptions: [
      { id: 'a', timeoutMs: LOCAL },
      { id: 'b', timeoutMs: LOCAL },
      { id: 'c', timeoutMs: LOCAL },
    ],
    attempt: (sub) => (sub === 'c' ? { ok: false, retryDelayMs: null } : { ok: true }),
  });
  const view = await (await handle).result();
  expect(view.status).toBe('failed');
  expect(view.deliveries.map((d) => [d.subscriptionId, d.status])).toEqual([
    ['a', 'succeeded'],
    ['b', 'succeeded'],
    ['c', 'failed'],
  ]);
  expect(seen.attempts.map((a) => [a.deliveryId, a.attempt, a.opened?.claimedUntil])).toEqual(
    ['a', 'b', 'c'].map((sub) => [`${id}~${sub}`, 1, OPENING_CLAIM_UNTIL]),
  );
  expect(seen.finished).toEqual(['failed']);
  const types = await eventTypes(await handle);
  // One marker in all: the event's opening with its three first attempts.
  expect(types.filter((t) => t === 'EVENT_TYPE_MARKER_RECORDED')).toHaveLength(1);
  expect(types.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')).toHaveLength(0);
});

test('a fan-out past what one activity answers makes its first attempts in several, and the run records the status at its end', async () => {
  const subscriptions = Array.from({ length: FIRST_ATTEMPTS_PER_ACTIVITY + 1 }, (_, i) => ({ id: `s${i}`, timeoutMs: LOCAL }));
  const { seen, handle } = start({ subscriptions });
  expect((await (await handle).result()).status).toBe('delivered');
  expect(seen.attempts).toHaveLength(subscriptions.length);
  expect(seen.attempts.every((a) => a.attempt === 1 && a.opened)).toBe(true);
  expect(seen.finished).toEqual(['delivered']);
  // The opening, two shared activities (100 and 1 attempts) and the status at the end.
  expect((await eventTypes(await handle)).filter((t) => t === 'EVENT_TYPE_MARKER_RECORDED')).toHaveLength(4);
});

test("a fan-out to HERALD_MAX_SUBSCRIPTIONS' default, with the longest ids and errors, keeps every payload under three quarters of Temporal's 2 MB", async () => {
  // The fake's delivery ids are `{eventId}~{subscriptionId}`; an event id as long as a real
  // delivery id's prefix (`event/{63-character tenant}/{128-character id}`) makes them as long.
  const tenant = 't'.repeat(63);
  const id = `fanout-${++n}-${Date.now()}-`.padEnd(198, 'x');
  const subscriptions = Array.from({ length: DEFAULT_MAX_SUBSCRIPTIONS }, (_, i) => ({
    id: `sub_01JZ${String(i).padStart(22, '0')}`,
    timeoutMs: LOCAL,
  }));
  // Each first attempt fails with the longest error a workflow keeps, and each run hands over
  // at once: the next run loads every delivery, with its attempt's outcome, from the audit.
  const error = 'e'.repeat(TRACKED_ERROR_MAX);
  const seen = env.audit.plan(id, {
    subscriptions,
    attempt: (_, attempt) => (attempt === 1 ? { ok: false, retryDelayMs: 100, error } : { ok: true }),
  });
  const args: DeliverEventInput = { tenant, event: eventOf(id), revision: DELIVER_EVENT_REVISION, historyLimit: 1 };
  const h = await env.client.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
    workflowId: `event/${tenant}/${id.slice(0, 128)}`,
    taskQueue: env.taskQueue,
    args: [args],
  });
  expect((await env.client.workflow.getHandle(h.workflowId).result()).status).toBe('delivered');
  expect(seen.attempts).toHaveLength(2 * subscriptions.length);

  // Every run of the chain, the first to the one that completed.
  const sizes = new Map<string, number>(); // the largest payload of each kind
  const note = (kind: string, payloads: temporal.api.common.v1.IPayload[] | null | undefined) => {
    for (const p of payloads ?? []) sizes.set(kind, Math.max(sizes.get(kind) ?? 0, p.data?.length ?? 0));
  };
  let runs = 0;
  let runId: string | null | undefined = h.firstExecutionRunId;
  while (runId) {
    runs++;
    const history: temporal.api.history.v1.IHistory = await env.client.workflow.getHandle(h.workflowId, runId).fetchHistory();
    runId = undefined;
    for (const e of history.events ?? []) {
      const marker = e.markerRecordedEventAttributes?.details;
      if (marker) note(markerActivity(marker), marker.result?.payloads);
      note('result', e.workflowExecutionCompletedEventAttributes?.result?.payloads);
      note('continued', e.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads);
      runId = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? runId;
    }
  }
  expect(runs).toBeGreaterThanOrEqual(2);
  // The largest: the opening's and the loaded deliveries' (each about 1 KB a delivery).
  expect(sizes.get('openEventWithFirstAttempts')).toBeGreaterThan(700 * subscriptions.length);
  expect(sizes.get('loadDeliveries')).toBeGreaterThan(900 * subscriptions.length);
  expect(Math.max(...sizes.values())).toBeLessThan(1.5 * 1024 * 1024);
}, 60_000);

/** The local activities of a run, in its history's order. */
async function localActivities(handle: WorkflowHandle): Promise<string[]> {
  const history = await env.client.workflow.getHandle(handle.workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes?.details;
    return marker ? [markerActivity(marker)] : [];
  });
}

/** The activity a local activity's marker records, from its `data` detail. */
function markerActivity(details: Record<string, temporal.api.common.v1.IPayloads>): string {
  const data = details.data?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type : 'marker';
}

test('a first attempt that fails as an activity in the shared one is made again in an activity of its own, under a claim of its own', async () => {
  let tries = 0;
  const { id, seen, handle } = start({
    subscriptions: [
      { id: 'a', timeoutMs: LOCAL },
      { id: 'b', timeoutMs: LOCAL },
    ],
    attempt: (sub) => (sub === 'b' && tries++ === 0 ? { throws: 'the store went away' } : { ok: true }),
  });
  expect((await (await handle).result()).status).toBe('delivered');
  expect(seen.attempts.map((a) => [a.deliveryId, a.attempt, a.opened?.claimedUntil])).toEqual([
    [`${id}~a`, 1, OPENING_CLAIM_UNTIL],
    [`${id}~b`, 1, OPENING_CLAIM_UNTIL],
    [`${id}~b`, 1, 0], // no claim left: it stores its deferred delivery first, then claims it
  ]);
  // Not every delivery ended in the shared activity: the run records the status at its end.
  expect(seen.finished).toEqual(['delivered']);
});

test('an event nothing matches is recorded delivered in the one step that opens it, with nothing written after', async () => {
  const { seen, handle } = start({ subscriptions: [] });
  expect(await (await handle).result()).toMatchObject({ status: 'delivered', deliveries: [] });
  expect(seen.attempts).toEqual([]);
  expect(seen.recorded).toEqual(['delivered']);
  expect(seen.finished).toEqual([]);
  const types = await eventTypes(await handle);
  // The one audit step, no patch marker; the HeraldStatus upsert only (no subscription ids to index).
  expect(types.filter((t) => t === 'EVENT_TYPE_MARKER_RECORDED')).toHaveLength(1);
  expect(types.filter((t) => t === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES')).toHaveLength(1);
});

test('waits out the retry schedule, and a retry signal while it waits attempts at once', async () => {
  const { seen, handle } = start({
    subscriptions: [{ id: 's', timeoutMs: LOCAL }],
    attempt: (_, attempt) => (attempt === 1 ? { ok: false, retryDelayMs: LATER } : { ok: true }),
  });
  const h = await handle;
  await until(async () => (await h.query(statusQuery)).deliveries[0]?.status === 'retrying', 'the first attempt to fail');
  await new Promise((r) => setTimeout(r, 1_000)); // a workflow that ignored the schedule would attempt again now
  expect(seen.attempts).toHaveLength(1);

  await h.signal(retrySignal, by('key:k1'));
  const view = await h.result();
  expect(view.status).toBe('delivered');
  expect(seen.attempts.map((a) => [a.attempt, a.trigger?.action, a.trigger?.by])).toEqual([
    [1, undefined, undefined],
    [2, 'retry', 'key:k1'],
  ]);
});

test('a worker collects no workflow stack traces unless asked (HERALD_WORKFLOW_STACK_TRACES): the stack trace query says so, and answers once they are on', async () => {
  const waiting: Plan = { subscriptions: [{ id: 's', timeoutMs: LOCAL }], attempt: () => ({ ok: false, retryDelayMs: LATER }) };
  const stackOf = async (queue?: string) => {
    const h = await start(waiting, {}, queue).handle;
    await until(async () => (await h.query(statusQuery)).deliveries[0]?.status === 'retrying', 'the first attempt to fail');
    return { h, stack: h.query<string>('__stack_trace') };
  };

  const off = await stackOf();
  try {
    await expect(off.stack).rejects.toThrow('Workflow stack traces are not enabled on this worker');
  } finally {
    await off.h.terminate();
  }

  const stopWorker = await env.startWorker('workflow-tests-stacks', { workflowStackTraces: true });
  try {
    const on = await stackOf('workflow-tests-stacks');
    try {
      expect(await on.stack).toMatch(/ at deliver \(\S*src\/workflows\/deliver-event\.ts:\d+:\d+\)/);
    } finally {
      await on.h.terminate();
    }
  } finally {
    await stopWorker();
  }
});

test('a retry of a delivery that failed, while the event still delivers elsewhere, runs its schedule again from the next attempt', async () => {
  const slow = gate();
  const { seen, handle } = start({
    subscriptions: [
      { id: 'failing', timeoutMs: LOCAL },
      { id: 'held', timeoutMs: REMOTE },
    ],
    attempt: (sub, attempt) => (sub === 'held' ? { hold: slow.promise } : attempt === 1 ? { ok: false, retryDelayMs: null } : { ok: true }),
  });
  const h = await handle;
  await until(async () => (await h.query(statusQuery)).deliveries[0]?.status === 'failed', 'the failing delivery to fail');

  await h.signal(retrySignal, { subscriptionId: 'failing', requestedBy: 'key:k2' });
  await until(async () => (await h.query(statusQuery)).deliveries[0]?.status === 'succeeded', 'the reopened delivery to succeed');
  expect(seen.reopened.map((r) => [r.action.by, r.attempts])).toEqual([['key:k2', 1]]);
  expect(seen.attempts.filter((a) => a.deliveryId.endsWith('~failing')).map((a) => [a.attempt, a.scheduleBase])).toEqual([
    [1, 0],
    [2, 1],
  ]);

  slow.release({ ok: true });
  expect((await h.result()).status).toBe('delivered');
});

test('a retry after the run closed starts a run of the same id that reopens the failed delivery', async () => {
  const { id, seen, handle, args } = start({
    subscriptions: [{ id: 's', timeoutMs: LOCAL }],
    attempt: (_, attempt) => (attempt === 1 ? { ok: false, retryDelayMs: null } : { ok: true }),
  });
  const h = await handle;
  expect((await h.result()).status).toBe('failed');

  await sendRetry(env.client, env.taskQueue, h.workflowId, { ...args, mode: { kind: 'resume' } }, by('key:k3'));
  const resumed = env.client.workflow.getHandle(h.workflowId);
  expect((await resumed.result()).status).toBe('delivered');
  expect(seen.finished).toEqual(['failed', 'delivered']);
  expect(seen.reopened.map((r) => r.action.by)).toEqual(['key:k3']);
  expect(env.audit.deliveryOf(id, 's').view).toMatchObject({ status: 'succeeded', attempts: 2 });
});

test('a retry of a failed ping resumes it as a ping: its attempt is one, made also when the subscription is disabled', async () => {
  const id = `evt-ping-${Date.now()}`;
  const seen = env.audit.plan(id, {
    subscriptions: [{ id: 's', timeoutMs: LOCAL }],
    attempt: (_, attempt) => (attempt === 1 ? { ok: false, retryDelayMs: null } : { ok: true }),
  });
  const args: DeliverEventInput = {
    tenant: 't1',
    event: { ...eventOf(id), type: 'herald.ping', source: 'herald' },
    revision: DELIVER_EVENT_REVISION,
    mode: { kind: 'ping', subscriptionId: 's' },
  };
  const h = await env.client.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
    workflowId: eventWorkflowId('t1', id), // the ping's own run: a replay of it is resumed as any event
    taskQueue: env.taskQueue,
    args: [args],
  });
  expect((await h.result()).status).toBe('failed');

  await sendRetry(env.client, env.taskQueue, h.workflowId, { ...args, mode: { kind: 'resume' } }, by('key:k10'));
  expect((await env.client.workflow.getHandle(h.workflowId).result()).status).toBe('delivered');
  expect(seen.attempts.map((a) => [a.attempt, a.ping])).toEqual([
    [1, true],
    [2, true],
  ]);
});

test('a cancel during an attempt aborts the attempt in flight and closes the delivery as cancelled', async () => {
  const never = gate();
  const { id, seen, handle } = start({ subscriptions: [{ id: 's', timeoutMs: REMOTE }], attempt: () => ({ hold: never.promise }) });
  const h = await handle;
  await until(() => seen.attempts.length === 1, 'the attempt to start');

  await h.signal(cancelSignal, by('key:k4'));
  const view = await h.result();
  expect(view.status).toBe('cancelled');
  expect(seen.cancelledInFlight).toEqual([`${id}~s`]);
  expect(seen.cancelled.map((c) => c.action.by)).toEqual(['key:k4']);
  expect(seen.attempts).toHaveLength(1);
  expect(seen.finished).toEqual(['cancelled']);
});

test('a cancel of one subscription while its next attempt waits leaves the others delivering', async () => {
  const { seen, handle } = start({
    subscriptions: [
      { id: 'a', timeoutMs: LOCAL },
      { id: 'b', timeoutMs: LOCAL },
    ],
    attempt: (sub, attempt) => (attempt === 1 ? { ok: false, retryDelayMs: sub === 'a' ? LATER : 500 } : { ok: true }),
  });
  const h = await handle;
  await until(async () => (await h.query(statusQuery)).deliveries[0]?.status === 'retrying', 'a to wait for its next attempt');
  await h.signal(cancelSignal, { subscriptionId: 'a', requestedBy: 'key:k5' });
  const view = await h.result();
  expect(view.deliveries.map((d) => [d.subscriptionId, d.status])).toEqual([
    ['a', 'cancelled'],
    ['b', 'succeeded'],
  ]);
  expect(view.status).toBe('cancelled');
  expect(seen.attempts.filter((a) => a.deliveryId.endsWith('~a'))).toHaveLength(1);
});

test('a cancel sent with the start, before the deliveries are known, is applied once they are', async () => {
  const id = `evt-early-${Date.now()}`;
  const never = gate();
  const seen = env.audit.plan(id, { subscriptions: [{ id: 's', timeoutMs: LOCAL }], attempt: () => ({ hold: never.promise }) });
  const h = await env.client.workflow.signalWithStart<typeof deliverEvent, [ControlRequest?]>(DELIVER_EVENT_WORKFLOW, {
    workflowId: `wf-${id}`,
    taskQueue: env.taskQueue,
    args: [{ tenant: 't1', event: eventOf(id), revision: DELIVER_EVENT_REVISION }],
    signal: cancelSignal,
    signalArgs: [by('key:k6')],
  });
  expect((await h.result()).status).toBe('cancelled');
  expect(seen.cancelled.map((c) => c.action.by)).toEqual(['key:k6']);
});

test('a long history continues as new: open deliveries go on in the next run, with the requests that arrived while handing over', async () => {
  const held = gate();
  const { id, seen, handle } = start(
    {
      subscriptions: [{ id: 's', timeoutMs: REMOTE }],
      attempt: (_, attempt) => (attempt === 1 ? { hold: held.promise } : { ok: true }),
    },
    { historyLimit: 1 }, // past it from the first event: this run hands over as soon as its attempt ends
  );
  const h = await handle;
  const firstRunId = h.firstExecutionRunId;
  await until(() => seen.attempts.length === 1, 'the first attempt');
  // The run is handing over now (it waits for the attempt in flight): the signal is kept for the next run.
  await h.signal(cancelSignal, by('key:k7'));
  held.release({ ok: false, retryDelayMs: LATER });

  const view = await env.client.workflow.getHandle(h.workflowId).result();
  expect(view.status).toBe('cancelled');
  expect(seen.cancelled.map((c) => c.action.by)).toEqual(['key:k7']);
  expect(seen.attempts).toHaveLength(1);
  expect(env.audit.deliveryOf(id, 's').view).toMatchObject({ status: 'cancelled', attempts: 1 });
  expect((await eventTypes(h, firstRunId)).at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
});

test("a retry that arrives while a run hands over attempts at once in the next run, not at the delivery's next scheduled attempt", async () => {
  const held = gate();
  const { id, seen, handle } = start(
    {
      subscriptions: [{ id: 's', timeoutMs: REMOTE }],
      attempt: (_, attempt) => (attempt === 1 ? { hold: held.promise } : { ok: true }),
    },
    { historyLimit: 1 },
  );
  const h = await handle;
  await until(() => seen.attempts.length === 1, 'the first attempt');
  await h.signal(retrySignal, by('key:k8')); // kept for the next run: this one is handing over
  held.release({ ok: false, retryDelayMs: LATER });

  const view = await env.client.workflow.getHandle(h.workflowId).result();
  expect(view.status).toBe('delivered');
  expect(seen.attempts.map((a) => [a.attempt, a.trigger?.by])).toEqual([
    [1, undefined],
    [2, 'key:k8'],
  ]);
  expect(env.audit.deliveryOf(id, 's').view).toMatchObject({ status: 'succeeded', attempts: 2 });
});

/** One delivery to a slow receiver, its first attempt under way until `held` is released; a second attempt succeeds. */
async function firstAttemptHeld() {
  const held = gate();
  const { id, seen, handle } = start({
    subscriptions: [{ id: 's', timeoutMs: REMOTE }],
    attempt: (_, attempt) => (attempt === 1 ? { hold: held.promise } : { ok: true }),
  });
  const h = await handle;
  await until(() => seen.attempts.length === 1, 'the first attempt');
  return { id, seen, h, held };
}

test('a retry that arrives during the attempt that fails the delivery reopens it, as one after the failure would', async () => {
  const { id, seen, h, held } = await firstAttemptHeld();
  await h.signal(retrySignal, by('key:k9'));
  await new Promise((r) => setTimeout(r, 500)); // the signal is in the run before the attempt ends
  held.release({ ok: false, retryDelayMs: null });

  expect((await h.result()).status).toBe('delivered');
  expect(seen.reopened.map((r) => r.action.by)).toEqual(['key:k9']);
  expect(seen.attempts.map((a) => a.attempt)).toEqual([1, 2]);
  expect(env.audit.deliveryOf(id, 's').view).toMatchObject({ status: 'succeeded', attempts: 2 });
});

const wakeUp = { requestedBy: 'herald', onlyIfWaiting: true };

test("Herald's wake-up during the attempt that fails the delivery (its 410 disabled the subscription) leaves it failed", async () => {
  const { id, seen, h, held } = await firstAttemptHeld();
  await h.signal(retrySignal, wakeUp);
  await new Promise((r) => setTimeout(r, 500)); // the signal is in the run before the attempt ends
  held.release({ ok: false, retryDelayMs: null });

  expect((await h.result()).status).toBe('failed');
  expect(seen.reopened).toEqual([]);
  expect(seen.attempts.map((a) => a.attempt)).toEqual([1]);
  expect(seen.finished).toEqual(['failed']);
  expect(env.audit.deliveryOf(id, 's').view).toMatchObject({ status: 'failed', attempts: 1 });
});

test("Herald's wake-up leaves a failed delivery failed, and cuts short the wait of one retrying", async () => {
  const { id, seen, handle } = start({
    subscriptions: [
      { id: 'gone', timeoutMs: REMOTE },
      { id: 'waiting', timeoutMs: REMOTE },
    ],
    attempt: (sub, attempt) => (sub === 'gone' || attempt > 1 ? { ok: false, retryDelayMs: null } : { ok: false, retryDelayMs: LATER }),
  });
  const h = await handle;
  await until(() => seen.attempts.length === 2, 'both first attempts');
  await until(async () => (await h.query(statusQuery)).deliveries.some((d) => d.status === 'retrying'), 'the retrying delivery');
  await h.signal(retrySignal, wakeUp);

  expect((await h.result()).status).toBe('failed');
  expect(seen.reopened).toEqual([]);
  expect(env.audit.deliveryOf(id, 'gone').view).toMatchObject({ status: 'failed', attempts: 1 });
  expect(env.audit.deliveryOf(id, 'waiting').view).toMatchObject({ status: 'failed', attempts: 2 });
  expect(seen.attempts.find((a) => a.attempt === 2)?.trigger).toMatchObject({ action: 'retry', by: 'herald' });
});

test("a retry asked for after Herald's wake-up, during the attempt that fails the delivery, still reopens it", async () => {
  const { id, seen, h, held } = await firstAttemptHeld();
  await h.signal(retrySignal, wakeUp);
  await h.signal(retrySignal, by('key:k10'));
  await new Promise((r) => setTimeout(r, 500));
  held.release({ ok: false, retryDelayMs: null });

  expect((await h.result()).status).toBe('delivered');
  expect(seen.reopened.map((r) => r.action.by)).toEqual(['key:k10']);
  expect(env.audit.deliveryOf(id, 's').view).toMatchObject({ status: 'succeeded', attempts: 2 });
});

test("a cancel of the workflow in Temporal (the Web UI's Cancel) cancels every open delivery and still records the status", async () => {
  const { seen, handle } = start({
    subscriptions: [
      { id: 'a', timeoutMs: LOCAL },
      { id: 'b', timeoutMs: LOCAL },
    ],
    attempt: () => ({ ok: false, retryDelayMs: LATER }),
  });
  const h = await handle;
  await until(() => seen.attempts.length === 2, 'both first attempts');
  await h.cancel();
  await expect(h.result()).rejects.toThrow();
  expect((await h.describe()).status.name).toBe('CANCELLED');
  expect(seen.cancelled.map((c) => c.action.by).sort()).toEqual(['temporal', 'temporal']);
  expect(seen.finished).toEqual(['cancelled']);
});

test('a cancel of the workflow that arrives while a slow store matches still closes the deliveries it opens', async () => {
  const id = `evt-slow-match-${Date.now()}`;
  const matching = gate();
  const seen = env.audit.plan(id, {
    subscriptions: [
      { id: 'a', timeoutMs: LOCAL },
      { id: 'b', timeoutMs: REMOTE },
    ],
    matching: matching.promise,
  });
  // A local activity holds its workflow task; a cancel reaches the workflow at the task's
  // heartbeat (80% of its timeout), as it does when the store is slow.
  const h = await env.client.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
    workflowId: `wf-${id}`,
    taskQueue: env.taskQueue,
    args: [{ tenant: 't1', event: eventOf(id), revision: DELIVER_EVENT_REVISION }],
    workflowTaskTimeout: '1s',
  });
  await until(() => seen.matchStarted, 'matching to start');
  await h.cancel();
  // The cancel reaches the activity after the workflow task that brings it: released before,
  // the matching would let the activity attempt the fast delivery, as a late cancel does.
  try {
    await until(() => seen.openingCancelRequested, 'the cancel to reach the opening while matching still runs');
  } finally {
    matching.release({ ok: true }); // also when the wait failed: a held opening would hold the worker's shutdown
  }
  await expect(h.result()).rejects.toThrow();
  expect((await h.describe()).status.name).toBe('CANCELLED');
  expect(seen.cancelled.map((c) => [c.deliveryId.split('~')[1], c.action.by]).sort()).toEqual([
    ['a', 'temporal'],
    ['b', 'temporal'],
  ]);
  expect(seen.attempts).toEqual([]);
  expect(seen.finished).toEqual(['cancelled']);
});

/** Starts an event whose first attempts the opening makes and holds, with tasks short enough that a signal or cancel reaches the run while they are held. */
async function openingAttemptsHeld(...subscriptions: string[]) {
  const gates = new Map(subscriptions.map((sub) => [sub, gate()]));
  const id = `evt-held-${++n}-${Date.now()}`;
  const seen = env.audit.plan(id, {
    subscriptions: subscriptions.map((sub) => ({ id: sub, timeoutMs: LOCAL })),
    attempt: (sub, attempt) => (attempt === 1 ? { hold: gates.get(sub)!.promise } : { ok: true }),
  });
  // A local activity holds its workflow task; a signal or cancel reaches the workflow at the
  // task's heartbeat (80% of its timeout).
  const h = await env.client.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
    workflowId: `wf-${id}`,
    taskQueue: env.taskQueue,
    args: [{ tenant: 't1', event: eventOf(id), revision: DELIVER_EVENT_REVISION }],
    workflowTaskTimeout: '1s',
  });
  await until(() => seen.attempts.length === subscriptions.length, 'the first attempts');
  /** The request of this history event type reached the run while the attempts are still held. */
  const reached = async (requested: string) => {
    const types = await eventTypes(h);
    const at = types.indexOf(requested);
    return at >= 0 && types.lastIndexOf('EVENT_TYPE_WORKFLOW_TASK_STARTED') > at;
  };
  return { id, seen, h, gates, reached };
}

test('requests that arrive while the opening makes the first attempts apply to their outcomes: a retry reopens a failed one, a cancel closes a retrying one, a delivered one stays delivered', async () => {
  const { id, seen, h, gates, reached } = await openingAttemptsHeld('a', 'b', 'c');
  await h.signal(retrySignal, by('key:k11'));
  await h.signal(cancelSignal, { subscriptionId: 'c', requestedBy: 'key:k12' });
  await until(() => reached('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'), 'the requests to reach the run');
  gates.get('a')!.release({ ok: true });
  gates.get('b')!.release({ ok: false, retryDelayMs: null });
  gates.get('c')!.release({ ok: false, retryDelayMs: LATER });

  const view = await h.result();
  expect(view.deliveries.map((d) => [d.subscriptionId, d.status, d.attempts])).toEqual([
    ['a', 'succeeded', 1],
    ['b', 'succeeded', 2],
    ['c', 'cancelled', 1],
  ]);
  expect(seen.reopened.map((r) => [r.deliveryId, r.action.by])).toEqual([[`${id}~b`, 'key:k11']]);
  expect(seen.cancelled.map((c) => [c.deliveryId, c.action.by])).toEqual([[`${id}~c`, 'key:k12']]);
  expect(seen.finished).toEqual(['cancelled']);
});

test('a first attempt the opening made that its subscription throttled is asked again after the wait the throttle gave', async () => {
  const asked: number[] = [];
  const { seen, handle } = start({
    subscriptions: [{ id: 'a', timeoutMs: LOCAL }],
    attempt: () => (asked.push(Date.now()) === 1 ? { throttledForMs: 1_000 } : { ok: true }),
  });
  expect((await (await handle).result()).status).toBe('delivered');
  expect(seen.attempts.map((a) => a.attempt)).toEqual([1, 1]); // a throttled attempt is not one
  expect(asked[1] - asked[0]).toBeGreaterThanOrEqual(900);
});

test('a retried opening leaves the first attempts to an activity of their own, under the claim it opened them with', async () => {
  const { id, seen, handle } = start({ subscriptions: [{ id: 'a', timeoutMs: LOCAL }], openingFails: 1 });
  expect((await (await handle).result()).status).toBe('delivered');
  expect(seen.openings).toBe(2);
  expect(seen.attempts.map((a) => [a.deliveryId, a.attempt, a.opened?.claimedUntil])).toEqual([[`${id}~a`, 1, OPENING_CLAIM_UNTIL]]);
  // The opening (its retry is in the same marker), then the first attempt, which recorded the status.
  expect(await localActivities(await handle)).toEqual(['openEventWithFirstAttempts', 'attemptFirstDeliveries']);
  expect(seen.finished).toEqual(['delivered']);
});

test('a cancel of the workflow while the opening waits to be retried still records the event, then closes its deliveries', async () => {
  const id = `evt-opening-down-${++n}-${Date.now()}`;
  // Failing twice, the opening is waiting to be retried (1 s, then 2 s) whenever the cancel arrives in its first 3 s.
  const seen = env.audit.plan(id, { subscriptions: [{ id: 'a', timeoutMs: LOCAL }], openingFails: 2 });
  const h = await env.client.workflow.start<typeof deliverEvent>(DELIVER_EVENT_WORKFLOW, {
    workflowId: `wf-${id}`,
    taskQueue: env.taskQueue,
    args: [{ tenant: 't1', event: eventOf(id), revision: DELIVER_EVENT_REVISION }],
    workflowTaskTimeout: '1s', // the cancel reaches the run at the task's heartbeat, while the opening waits
  });
  await until(() => seen.openings === 1, 'the opening to fail once');
  await h.cancel();

  await expect(h.result()).rejects.toThrow();
  expect((await h.describe()).status.name).toBe('CANCELLED');
  expect(seen.openings).toBe(3);
  // The combined activity ended cancelled; the opening alone recorded the event, and the cancel closed its delivery.
  expect(await localActivities(h)).toEqual(['openEventWithFirstAttempts', 'openEvent', 'cancelDelivery', 'finishEvent']);
  expect(seen.cancelled[0].opening).toBeDefined(); // the deferred delivery, stored as it is closed
  expect(seen.recorded).toEqual(['delivering']);
  expect(seen.attempts).toEqual([]);
  expect(seen.cancelled.map((c) => [c.deliveryId, c.action.by])).toEqual([[`${id}~a`, 'temporal']]);
  expect(seen.finished).toEqual(['cancelled']);
}, 30_000);

test('a cancel of the workflow while the opening makes the first attempts aborts the one in flight; the opened deliveries still close, a sent one keeps its outcome', async () => {
  const { id, seen, h, gates, reached } = await openingAttemptsHeld('a', 'b');
  gates.get('b')!.release({ ok: true }); // sent before the cancel: the opening's activity still runs for `a`
  await h.cancel();
  await until(() => reached('EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED'), 'the cancel to reach the run');

  await expect(h.result()).rejects.toThrow();
  expect((await h.describe()).status.name).toBe('CANCELLED');
  expect(seen.cancelledInFlight).toEqual([`${id}~a`]);
  expect(seen.cancelled.map((c) => [c.deliveryId, c.action.by])).toEqual([[`${id}~a`, 'temporal']]);
  expect(env.audit.deliveryOf(id, 'b').view.status).toBe('succeeded');
  expect(seen.recorded).toEqual(['delivering']);
  expect(seen.finished).toEqual(['cancelled']);
});

test('the first attempt of a delivery the run opened carries the delivery as opened, its later attempts do not', async () => {
  const { id, seen, handle } = start({
    subscriptions: [{ id: 'a', timeoutMs: LOCAL }],
    attempt: (_, attempt) => (attempt === 1 ? { ok: false, retryDelayMs: 100 } : { ok: true }),
  });
  expect((await (await handle).result()).status).toBe('delivered');
  expect(seen.attempts.map((a) => [a.attempt, a.opened?.claimedUntil])).toEqual([
    [1, OPENING_CLAIM_UNTIL],
    [2, undefined],
  ]);
  expect(seen.attempts[0].opened).toMatchObject({
    tenant: 't1',
    eventId: id,
    view: { subscriptionId: 'a', status: 'pending', attempts: 0 },
    matchedAtVersion: MATCHED_AT_VERSION,
  });
});
