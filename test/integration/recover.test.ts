import { defaultPayloadConverter } from '@temporalio/common';
import { newMessageId } from '../../src/domain/ids';
import type { DeliveryDoc, EventDoc } from '../../src/store';
import * as api from '../harness/api';
import { eventually, useStack } from '../harness/stack';

/** `POST /v1/subscriptions/{id}/recover`: failed deliveries in a window, delivered again. */

const env = useStack();

/** Distinct webhook-ids the env.receiver saw on a path, and how many requests carried each. */
function countsById(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of env.receiver.received(path)) {
    const id = String(r.headers['webhook-id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

test('recover redelivers the failed deliveries inside the window, and only those', async () => {
  let up = false;
  env.receiver.on('/window', () => ({ status: up ? 200 : 500 }));
  const sub = await api.subscribe(env.stack, env.receiver, '/window', ['window.test'], { retry: { maxAttempts: 1 } });
  const before = await api.send(env.stack, { type: 'window.test', data: { n: 0 } });
  await api.finalEvent(env.stack, before.id);
  await new Promise((r) => setTimeout(r, 1100));
  const since = new Date().toISOString();
  const inside = [];
  for (let n = 1; n <= 5; n++) inside.push(await api.send(env.stack, { type: 'window.test', data: { n } }));
  for (const e of inside) expect((await api.finalEvent(env.stack, e.id)).status).toBe('failed');

  up = true;
  const res = await env.stack.request('POST', `/v1/subscriptions/${sub.id}/recover`, { since });
  expect(res.status).toBe(202);
  expect(res.body.workflowId).toMatch(new RegExp(`^recover/default/${sub.id}/`));
  const result = await env.stack.temporal.workflow.getHandle(res.body.workflowId).result();
  expect(result).toEqual({ recovered: 5 });
  for (const e of inside) await api.eventWhen(env.stack, e.id, (v) => v.status === 'delivered', 15_000, 'delivered');
  expect((await env.stack.request('GET', `/v1/events/${before.id}`)).body.status).toBe('failed');
  for (const [, count] of countsById('/window')) expect(count).toBeLessThanOrEqual(2);
});

test(
  'recover of 400 failed deliveries completes in bounded batches (two of 200), each delivered once',
  async () => {
    const COUNT = 400;
    const sub = await api.subscribe(env.stack, env.receiver, '/bulk', ['bulk.test']);
    // The audit as an outage left it: 400 events whose one delivery failed, their
    // workflows long gone. Written straight into the store to keep the test's time on recovery.
    const at = new Date(Date.now() - 60_000);
    const events: EventDoc[] = [];
    const deliveries: DeliveryDoc[] = [];
    for (let i = 0; i < COUNT; i++) {
      const id = `bulk-${i}`;
      const workflowId = `event/default/${id}`;
      events.push({
        _id: `default/${id}`,
        tenant: 'default',
        id,
        type: 'bulk.test',
        dataJson: JSON.stringify({ i }),
        occurredAt: at,
        receivedAt: at,
        workflowId,
        runId: 'seeded',
        status: 'failed',
      });
      deliveries.push({
        _id: `${workflowId}|${sub.id}`,
        tenant: 'default',
        eventId: id,
        workflowId,
        subscriptionId: sub.id,
        channel: 'webhook',
        messageId: newMessageId(),
        status: 'failed',
        attempts: 1,
        lastAttemptAt: at,
        lastResponseStatus: 500,
        nextAttemptAt: null,
        error: 'receiver answered 500',
        scheduleBase: 0,
        createdAt: at,
        updatedAt: at,
      });
    }
    await env.stack.store.events.insertMany(events);
    await env.stack.store.deliveries.insertMany(deliveries);

    const started = Date.now();
    const res = await env.stack.request('POST', `/v1/subscriptions/${sub.id}/recover`, {
      since: new Date(at.getTime() - 1000).toISOString(),
    });
    expect(res.status).toBe(202);
    const handle = env.stack.temporal.workflow.getHandle(res.body.workflowId);
    expect(await handle.result()).toEqual({ recovered: COUNT });
    await eventually(() => countsById('/bulk').size === COUNT, 5 * 60_000, 'every recovered delivery to arrive');
    const seconds = (Date.now() - started) / 1000;
    console.log(`recovered ${COUNT} deliveries in ${seconds.toFixed(0)} s (${(COUNT / seconds).toFixed(1)}/s)`);

    const counts = countsById('/bulk');
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]); // each delivered once
    expect(new Set(counts.keys())).toEqual(new Set(deliveries.map((d) => d.messageId))); // with its own webhook-id
    await eventually(
      async () => (await env.stack.store.deliveries.countDocuments({ subscriptionId: sub.id, status: 'succeeded' })) === COUNT,
      120_000,
      'the audit to show every delivery succeeded',
    );
    // Bounded batches: each recoverBatch handed on at most 200, and the 400 took more than one.
    const { events: history } = await handle.fetchHistory();
    const handedOn = (history ?? []).flatMap((e) => {
      const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
      return payload ? [defaultPayloadConverter.fromPayload<{ count: number }>(payload).count] : [];
    });
    expect(handedOn.filter((count) => count > 0)).toEqual([200, 200]);
  },
  10 * 60_000,
);
