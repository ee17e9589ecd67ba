import { retentionScheduleId } from '../../src/temporal/retention-schedule';
import * as api from '../harness/api';
import { eventually, useStack } from '../harness/stack';

/** Retention: a Temporal Schedule deletes the audit older than HERALD_RETENTION_DAYS. */

const env = useStack({ workerEnv: { HERALD_RETENTION_DAYS: '30', HERALD_INGEST_LOG_DAYS: '14' } });

test('the worker puts the retention Schedule in place, and a run deletes exactly the expired audit', async () => {
  const schedule = env.stack.temporal.schedule.getHandle(retentionScheduleId(env.stack.taskQueue));
  const described = await schedule.describe();
  expect(described.action).toMatchObject({
    type: 'startWorkflow',
    workflowType: 'applyRetention',
    args: [{ retentionDays: 30, ingestLogDays: 14 }],
  });

  // Recent events, delivered the usual way.
  await api.subscribe(env.stack, env.receiver, '/recent', ['retain.*']);
  const recent = [];
  for (let i = 0; i < 3; i++) recent.push((await api.send(env.stack, { type: 'retain.recent', data: { i } })).id);
  for (const id of recent) await api.finalEvent(env.stack, id);

  // An old audit as months of traffic left it: expired events with deliveries and attempts,
  // one expired event still delivering, and one just inside the window.
  const day = 86_400_000;
  const seed = async (id: string, ageDays: number, status: 'delivered' | 'delivering') => {
    const at = new Date(Date.now() - ageDays * day);
    const workflowId = `event/default/${id}`;
    await env.stack.store.events.insertOne({
      _id: `default/${id}`,
      tenant: 'default',
      id,
      type: 'retain.old',
      dataJson: '{}',
      occurredAt: at,
      receivedAt: at,
      workflowId,
      runId: 'seeded',
      status,
    });
    await env.stack.store.deliveries.insertOne({
      _id: `${workflowId}|sub_x`,
      tenant: 'default',
      eventId: id,
      workflowId,
      subscriptionId: 'sub_x',
      channel: 'webhook',
      messageId: `msg_${id}`,
      status: status === 'delivered' ? 'succeeded' : 'retrying',
      attempts: 1,
      lastAttemptAt: at,
      lastResponseStatus: 200,
      nextAttemptAt: null,
      error: null,
      createdAt: at,
      updatedAt: at,
    });
    await env.stack.store.attempts.insertOne({
      _id: `${workflowId}|sub_x#1`,
      tenant: 'default',
      eventId: id,
      deliveryId: `${workflowId}|sub_x`,
      subscriptionId: 'sub_x',
      attempt: 1,
      startedAt: at,
      durationMs: 5,
      request: { url: 'http://127.0.0.1:1/', headers: {} },
      response: { status: 200, body: 'ok' },
      error: null,
    });
  };
  // Sent now with an old occurredAt (an import of history) to a digest subscription: delivered
  // as far as its status says, and held by the digest's window until the digest reads it.
  await api.subscribe(env.stack, env.receiver, '/digest', ['retain.digested'], { digest: { every: '1h', maxEvents: 1000 } });
  const digested = await api.send(env.stack, {
    type: 'retain.digested',
    data: {},
    occurredAt: new Date(Date.now() - 50 * 86_400_000).toISOString(),
  });
  expect((await api.finalEvent(env.stack, digested.id)).status).toBe('delivered');
  for (let i = 0; i < 5; i++) await seed(`old-${i}`, 40 + i, 'delivered');
  await seed('old-delivering', 45, 'delivering');
  await seed('inside-window', 29, 'delivered');
  // Marks on them: a closer's, and a purge's that a purge stopped part way left behind.
  await env.stack.store.eventMarks.insertMany([
    { _id: 'default/old-0', closedBy: 'old-0-end' },
    { _id: 'default/old-1', purgeMarkedAt: new Date(Date.now() - 41 * day) },
    { _id: 'default/inside-window', closedBy: 'inside-window-end' },
  ]);

  // The ingestion log has its own, shorter window.
  const logEntry = (id: string, ageDays: number) => ({
    _id: id,
    tenant: 'default',
    keyId: 'admin',
    at: new Date(Date.now() - ageDays * day),
    method: 'POST',
    route: '/v1/events',
    status: 400,
    problem: '{}',
    body: '{}',
    bodyBytes: 2,
    truncated: false,
  });
  await env.stack.store.ingestLog.insertMany([logEntry('ing_old', 15), logEntry('ing_recent', 13)]);

  await schedule.trigger(); // what the hourly interval does, now
  await eventually(async () => (await env.stack.store.events.countDocuments({ id: /^old-\d$/ })) === 0, 60_000, 'the expired events to go');

  for (let i = 0; i < 5; i++) {
    expect((await env.stack.request('GET', `/v1/events/old-${i}`)).status).toBe(404);
    expect(await env.stack.store.deliveries.countDocuments({ eventId: `old-${i}` })).toBe(0);
    expect(await env.stack.store.attempts.countDocuments({ eventId: `old-${i}` })).toBe(0);
  }
  for (const id of ['old-delivering', 'inside-window', digested.id, ...recent]) {
    expect((await env.stack.request('GET', `/v1/events/${id}`)).status).toBe(200);
  }
  expect(await env.stack.store.attempts.countDocuments({ eventId: 'old-delivering' })).toBe(1);
  // The marks documents go last, a moment after the events.
  await eventually(async () => (await env.stack.store.eventMarks.countDocuments({})) === 1, 10_000, "the expired events' marks to go");
  expect((await env.stack.store.eventMarks.find({}).toArray()).map((m) => m._id)).toEqual(['default/inside-window']);
  // Kept: the entry inside the log's window and the four accepted requests this test made.
  const log = await env.stack.store.ingestLog.find({}).toArray();
  expect(log.map((d) => (d._id === 'ing_recent' ? d._id : `accepted ${d.status}`)).sort()).toEqual([
    'accepted 202',
    'accepted 202',
    'accepted 202',
    'accepted 202',
    'ing_recent',
  ]);
});
