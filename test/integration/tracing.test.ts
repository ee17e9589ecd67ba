import path from 'node:path';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { completeEvent } from '../../src/api/ingest';
import { startDeliverEvent } from '../../src/temporal/deliver-event-client';
import { eventWorkflowId } from '../../src/temporal/names';
import { workflowSpanSinks } from '../../src/temporal/tracing';
import * as api from '../harness/api';
import { startCollector, type CollectedSpan, type Collector } from '../harness/otlp-collector';
import { eventually, useStack } from '../harness/stack';

// Started before the stack, which reads its endpoint; closed after it, so the worker's last spans arrive.
let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
const env = useStack({ otlpEndpoint: () => collector.endpoint });
afterAll(() => collector?.close());

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

/** The span and its ancestors up to the trace's root, each found among the collected spans. */
function ancestry(span: CollectedSpan): CollectedSpan[] {
  const chain = [span];
  for (let cur = span; cur.parentSpanId;) {
    const parent = collector.spans.find((s) => s.traceId === cur.traceId && s.spanId === cur.parentSpanId);
    if (!parent) break;
    chain.push(parent);
    cur = parent;
  }
  return chain;
}

/** The receiver's `traceparent` (W3C: version-traceid-parentid-flags), split. */
function traceparentOf(header: string | string[] | undefined) {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(header));
  expect(match).not.toBeNull();
  return { traceId: match![1], parentId: match![2] };
}

async function attemptsOf(id: string) {
  return (await env.stack.request('GET', `/v1/events/${id}/attempts`)).body.data as { traceId: string | null }[];
}

test('one trace runs from ingestion through the workflow and its activities to the webhook request, which carries it to the receiver', async () => {
  await api.subscribe(env.stack, env.receiver, '/traced', ['trace.test']);
  const { id } = await api.send(env.stack, { type: 'trace.test', data: { n: 1 } });
  expect((await api.finalEvent(env.stack, id)).status).toBe('delivered');

  const [attempt] = await attemptsOf(id);
  const traceId = attempt.traceId!;
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  const [request] = env.receiver.received('/traced');
  const traceparent = traceparentOf(request.headers.traceparent);
  expect(traceparent.traceId).toBe(traceId);

  await env.stack.tracing!.spanProcessor.forceFlush(); // the in-process API's ingestion spans
  const delivery = await eventually(
    () => collector.spans.find((s) => s.spanId === traceparent.parentId),
    10_000,
    'the webhook request span',
  );
  expect(delivery).toMatchObject({ service: 'herald-worker', traceId, name: 'POST', kind: SPAN_KIND_CLIENT });
  expect(delivery.attributes).toMatchObject({
    'http.request.method': 'POST',
    'http.response.status_code': 200,
    'server.address': '127.0.0.1',
  });

  // Every link from the webhook request back to the ingestion request, in one trace.
  const chain = await eventually(
    () => {
      const found = ancestry(delivery);
      return found.at(-1)!.parentSpanId === '' ? found : undefined;
    },
    10_000,
    'the whole chain of spans',
  );
  expect(chain.map((s) => `${s.service} ${s.name}`)).toEqual([
    'herald-worker POST',
    'herald-worker RunActivity:attemptDelivery',
    'herald-worker StartActivity:attemptDelivery',
    'herald-worker RunWorkflow:deliverEvent',
    'herald-api StartWorkflow:deliverEvent',
    'herald-api POST /v1/events',
  ]);
  expect(chain.every((s) => s.traceId === traceId)).toBe(true);
  expect(chain.at(-1)).toMatchObject({ kind: SPAN_KIND_SERVER, attributes: { 'http.response.status_code': 202 } });

  // The workflow's other activities are in the same trace.
  await eventually(
    () => {
      const names = new Set(collector.spans.filter((s) => s.traceId === traceId).map((s) => s.name));
      return ['RunActivity:openEventWithFirstAttempts', 'RunActivity:finishEvent'].every((n) => names.has(n));
    },
    10_000,
    'the spans of the opening and finishEvent',
  );
});

test("a caller's traceparent is continued: Herald's spans join the caller's trace", async () => {
  await api.subscribe(env.stack, env.receiver, '/continued', ['trace.continued']);
  const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpanId = '00f067aa0ba902b7';
  const res = await env.stack.request(
    'POST',
    '/v1/events',
    { type: 'trace.continued', data: {} },
    {
      traceparent: `00-${callerTraceId}-${callerSpanId}-01`,
    },
  );
  expect(res.status).toBe(202);
  await api.finalEvent(env.stack, res.body.id);

  const [attempt] = await attemptsOf(res.body.id);
  expect(attempt.traceId).toBe(callerTraceId);
  expect(traceparentOf(env.receiver.received('/continued')[0].headers.traceparent).traceId).toBe(callerTraceId);
  await env.stack.tracing!.spanProcessor.forceFlush();
  const ingestion = await eventually(
    () => collector.spans.find((s) => s.traceId === callerTraceId && s.name === 'POST /v1/events'),
    10_000,
    'the ingestion span',
  );
  expect(ingestion.parentSpanId).toBe(callerSpanId);
});

test("a worker log line written during a traced attempt carries the attempt's trace id", async () => {
  const lines: string[] = [];
  env.stack.worker.child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n')));
  env.receiver.on('/gone', () => ({ status: 410 }));
  await api.subscribe(env.stack, env.receiver, '/gone', ['trace.gone']);
  const { id } = await api.send(env.stack, { type: 'trace.gone', data: {} });
  expect((await api.finalEvent(env.stack, id)).status).toBe('failed');

  const [attempt] = await attemptsOf(id);
  const disabled = await eventually(
    () => lines.map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((l) => l.msg === 'subscription disabled'),
    10_000,
    'the "subscription disabled" log line',
  );
  expect(disabled.traceId).toBe(attempt.traceId);
  expect(disabled.spanId).toMatch(/^[0-9a-f]{16}$/);
});

test('a workflow started without trace context is not traced by a tracing worker, and histories of both kinds replay on a worker that does not trace', async () => {
  await api.subscribe(env.stack, env.receiver, '/untraced', ['trace.untraced']);
  const traced = await api.send(env.stack, { type: 'trace.untraced', data: {} });
  // Started as a process without tracing would: a client with no interceptors.
  const plainClient = new Client({ connection: env.stack.connection, namespace: 'default' });
  const event = completeEvent({ id: 'untraced-1', type: 'trace.untraced', data: {} }, new Date());
  const workflowId = eventWorkflowId('default', event.id);
  await startDeliverEvent(plainClient, env.stack.taskQueue, workflowId, { tenant: 'default', event });
  await api.finalEvent(env.stack, traced.id);
  expect((await api.finalEvent(env.stack, event.id)).status).toBe('delivered');

  const [untracedAttempt] = await attemptsOf(event.id);
  expect(untracedAttempt.traceId).toBeNull();
  const requests = env.receiver.received('/untraced');
  expect(requests).toHaveLength(2);
  expect(requests.filter((r) => r.headers.traceparent)).toHaveLength(1);
  await new Promise((r) => setTimeout(r, 500)); // several of the worker's 100 ms export rounds
  expect(collector.spans.filter((s) => s.attributes.workflowId === workflowId)).toEqual([]);
  expect(collector.spans.some((s) => s.attributes.workflowId === traced.workflowId)).toBe(true);

  const histories = await Promise.all(
    [traced.workflowId, workflowId].map(async (id) => ({
      workflowId: id,
      history: await env.stack.temporal.workflow.getHandle(id).fetchHistory(),
    })),
  );
  const bundle = path.resolve(__dirname, '../../dist/workflow-bundle.js'); // what the worker process runs
  const replays = Worker.runReplayHistories({ workflowBundle: { codePath: bundle }, sinks: workflowSpanSinks(undefined) }, histories);
  for await (const replay of replays) expect(replay.error).toBeUndefined();
});
