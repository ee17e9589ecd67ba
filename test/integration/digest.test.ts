import * as api from '../harness/api';
import { useSmtpServer } from '../harness/smtp';
import { eventually, useStack, WorkerProcess } from '../harness/stack';
import { COLLECT_DIGEST_WORKFLOW, digestWorkflowId } from '../../src/temporal/names';
import { digestQuery, type CollectDigestInput } from '../../src/workflows/definitions';

/** Digests: a subscription's events collected by its digest workflow and sent as one message. */

const smtp = useSmtpServer();
const env = useStack({ workerEnv: () => ({ HERALD_SMTP_URL: smtp.sink.url }) });

const digestOf = (subscriptionId: string) => env.stack.temporal.workflow.getHandle(digestWorkflowId('default', subscriptionId));

async function sendBatch(events: Record<string, unknown>[]) {
  const res = await env.stack.request('POST', '/v1/events', { events });
  expect(res.status).toBe(202);
}

/** The default digest text as type → subject → event lines (time stripped, sorted), read by indentation. */
function outline(text: string): Record<string, Record<string, string[]>> {
  const types: Record<string, Record<string, string[]>> = {};
  let subjects: Record<string, string[]> = {};
  let events: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    if (/^\S/.test(line)) types[line] = subjects = {};
    else if (/^ {2}\S/.test(line)) subjects[line.trim()] = events = [];
    else if (/^ {4}\S/.test(line)) {
      events.push(line.trim().replace(/^\S+ /, '').trim());
      events.sort();
    }
  }
  return types;
}

async function digestEvents(subscriptionId: string) {
  const res = await env.stack.request('GET', '/v1/events?type=herald.digest&limit=200');
  return (res.body.data as { id: string; data: { subscriptionId: string } }[]).filter((e) => e.data.subscriptionId === subscriptionId);
}

test('a digest of 120 events arrives as one signed JSON array holding all 120; killing the worker mid-window loses none and duplicates none', async () => {
  // Sent once it holds all 120 (maxEvents): the hour's window cannot close on a slow machine before they are in.
  const sub = await api.subscribe(env.stack, env.receiver, '/digest', ['audit.*'], { digest: { every: '1h', maxEvents: 120 } });
  const ids = Array.from({ length: 120 }, (_, i) => `dg-${i}`);
  await sendBatch(ids.map((id, i) => ({ id, type: i % 2 ? 'audit.login' : 'audit.change', data: { i } })));

  const before = await eventually(
    async () => {
      const state = await digestOf(sub.id).query(digestQuery);
      return state.pending >= 50 && state;
    },
    60_000,
    'fifty events in the window',
  );
  expect(Date.parse(before.closesAt!)).toBeGreaterThan(Date.now()); // the kill lands inside the window
  expect(before.pending).toBeLessThan(120); // and before the digest is full
  await env.stack.worker.kill('SIGKILL');
  env.stack.worker = await WorkerProcess.start(env.stack.workerEnv);

  const [request] = await eventually(
    () => env.receiver.received('/digest').length > 0 && env.receiver.received('/digest'),
    180_000,
    'the digest',
  );
  const body = JSON.parse(request.body) as { id: string; type: string; data: { i: number } }[];
  expect(body).toHaveLength(120);
  expect(new Set(body.map((e) => e.id))).toEqual(new Set(ids));
  expect(body.find((e) => e.id === 'dg-7')).toMatchObject({ type: 'audit.login', data: { i: 7 } });
  expect(api.signedWith(sub.secret, request)).toBe(true);

  const [digest] = await digestEvents(sub.id);
  const view = await api.finalEvent(env.stack, digest.id);
  expect(view.deliveries[0]).toMatchObject({ subscriptionId: sub.id, status: 'succeeded', messageId: request.headers['webhook-id'] });
  expect(await digestOf(sub.id).query(digestQuery)).toMatchObject({ pending: 0, sequence: 1 });
  expect(await digestEvents(sub.id)).toHaveLength(1);
  expect(env.receiver.received('/digest')).toHaveLength(1);
  // The events themselves were matched by nothing else: each is delivered, with no delivery of its own.
  expect((await api.finalEvent(env.stack, 'dg-0')).deliveries).toEqual([]);
}, 300_000);

test('a replay of an event the last digest held goes out in a digest again; a replay of the digest sends it again, to its subscription', async () => {
  const sub = await api.subscribe(env.stack, env.receiver, '/digest-replay', ['replayed.*'], { digest: { every: '1h', maxEvents: 1 } });
  const { id } = await api.send(env.stack, { id: 'dg-replayed', type: 'replayed.once', data: {} });
  const bodies = () => env.receiver.received('/digest-replay').map((r) => (JSON.parse(r.body) as { id: string }[]).map((e) => e.id));
  await eventually(() => bodies().length === 1, 60_000, 'the first digest');
  expect((await env.stack.request('POST', `/v1/events/${id}/replay`, {})).status).toBe(202);
  await eventually(() => bodies().length === 2, 60_000, 'the digest of the replay');
  expect(bodies()).toEqual([[id], [id]]);

  // A replay of the digest itself sends that digest again, to its own subscription only.
  const [first] = (await digestEvents(sub.id)).filter((e) => (e.data as { eventIds?: string[] }).eventIds?.includes(id));
  const other = await api.subscribe(env.stack, env.receiver, '/digest-replay-other', ['replayed.*']);
  const elsewhere = await env.stack.request('POST', `/v1/events/${first.id}/replay`, { subscriptionId: other.id });
  expect(elsewhere.status).toBe(400);
  expect(elsewhere.body.errors).toEqual([{ path: 'subscriptionId', message: `a digest is replayed to its own subscription, ${sub.id}` }]);
  expect((await env.stack.request('POST', `/v1/events/${first.id}/replay`, {})).status).toBe(202);
  await eventually(() => bodies().length === 3, 60_000, 'the replayed digest');
  expect(bodies()[2]).toEqual([id]);
  expect(env.receiver.received('/digest-replay-other')).toHaveLength(0);
});

test('an email digest reached at maxEvents lists the events grouped by type and subject', async () => {
  await env.stack.request('POST', '/v1/subscriptions', {
    channel: 'email',
    to: ['weekly@example.test'],
    eventTypes: ['deploy.*'],
    digest: { every: '1h', maxEvents: 5 },
  });
  const api1 = { type: 'service', id: 'api' };
  await sendBatch([
    { id: 'dm-1', type: 'deploy.finished', subject: api1, actor: 'ci', data: {} },
    { id: 'dm-2', type: 'deploy.failed', subject: { type: 'service', id: 'web' }, data: {} },
    { id: 'dm-3', type: 'deploy.finished', subject: api1, data: {} },
    { id: 'dm-4', type: 'deploy.finished', subject: { type: 'service', id: 'web' }, data: {} },
    { id: 'dm-5', type: 'deploy.failed', data: {} },
  ]);
  const [mail] = await eventually(
    () => smtp.sink.to('weekly@example.test').length > 0 && smtp.sink.to('weekly@example.test'),
    60_000,
    'the digest email',
  );
  expect(mail.parsed.subject).toMatch(/^\[Herald\] 5 events from \S+ to \S+$/);
  // Grouped: each type once with its count, each subject once under it, its events under it
  // (in the order they reached the digest, which the concurrent event workflows decide).
  expect(outline(mail.parsed.text ?? '')).toEqual({
    'deploy.finished (3)': { 'service/api (2)': ['by ci  dm-1', 'dm-3'], 'service/web (1)': ['dm-4'] },
    'deploy.failed (2)': { 'service/web (1)': ['dm-2'], '(no subject) (1)': ['dm-5'] },
  });
  expect(mail.parsed.html).toContain('<h3>deploy.finished (3)</h3>');
});

test('a digest workflow whose history grows long continues as new and still sends the whole window once', async () => {
  const sub = await api.subscribe(env.stack, env.receiver, '/digest-long', ['long.*'], { digest: { every: '1h', maxEvents: 60 } });
  // Started by the test with a short history limit; the event workflows then signal this run.
  const input: CollectDigestInput = { tenant: 'default', subscriptionId: sub.id, historyLimit: 30 };
  const handle = await env.stack.temporal.workflow.start(COLLECT_DIGEST_WORKFLOW, {
    workflowId: digestWorkflowId('default', sub.id),
    taskQueue: env.stack.taskQueue,
    args: [input],
  });
  const ids = Array.from({ length: 60 }, (_, i) => `long-${i}`);
  await sendBatch(ids.map((id) => ({ id, type: 'long.event', data: {} })));

  const [request] = await eventually(
    () => env.receiver.received('/digest-long').length > 0 && env.receiver.received('/digest-long'),
    90_000,
    'the digest',
  );
  expect(new Set((JSON.parse(request.body) as { id: string }[]).map((e) => e.id))).toEqual(new Set(ids));
  const runs = await eventually(
    async () => {
      const found: string[] = [];
      for await (const run of env.stack.temporal.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) found.push(run.runId);
      return found.length > 1 && found;
    },
    30_000,
    'the workflow to have continued as new',
  );
  expect(runs.length).toBeGreaterThan(1);
  expect(await digestEvents(sub.id)).toHaveLength(1);
}, 180_000);
