import { deleteEventsWithAudit, eventKey, isMarkedForPurge, markPurging } from '../../src/store/events';
import * as api from '../harness/api';
import { useStack, WorkerProcess } from '../harness/stack';

/** The audit as causality (parents and correlation) and as the history of one resource. */

const env = useStack();

async function sendAll(events: Record<string, unknown>[]) {
  for (const e of events) await api.send(env.stack, e);
  for (const e of events) await api.finalEvent(env.stack, e.id as string);
}

test('tree returns a three-level chain whole, from any of its events, and the correlation filter the whole conversation', async () => {
  await api.subscribe(env.stack, env.receiver, '/tree', ['deploy.*']);
  const deployment = { type: 'deployment', id: 'dep-7' };
  await sendAll([
    { id: 'c-root', type: 'deploy.requested', data: {}, subject: deployment, actor: 'alice', correlationId: 'conv-1' },
    { id: 'c-child', type: 'deploy.started', data: {}, subject: deployment, actor: 'ci', parentId: 'c-root', correlationId: 'conv-1' },
    { id: 'c-sibling', type: 'deploy.approved', data: {}, subject: deployment, actor: 'bob', parentId: 'c-root', correlationId: 'conv-1' },
    {
      id: 'c-grandchild',
      type: 'deploy.completed',
      data: {},
      subject: deployment,
      actor: 'ci',
      parentId: 'c-child',
      correlationId: 'conv-1',
    },
    { id: 'c-other', type: 'deploy.requested', data: {}, subject: { type: 'deployment', id: 'dep-8' }, correlationId: 'conv-2' },
  ]);

  const fromRoot = (await env.stack.request('GET', '/v1/events/c-root/tree')).body;
  expect(fromRoot.ancestors).toEqual([]);
  expect(fromRoot.event).toMatchObject({ id: 'c-root', type: 'deploy.requested', actor: 'alice', correlationId: 'conv-1' });
  expect(fromRoot.descendants.map((n: any) => n.event.id)).toEqual(['c-child', 'c-sibling']);
  expect(fromRoot.descendants[0].children.map((n: any) => n.event.id)).toEqual(['c-grandchild']);
  expect(fromRoot.truncated).toBe(false);

  const fromLeaf = (await env.stack.request('GET', '/v1/events/c-grandchild/tree')).body;
  expect(fromLeaf.ancestors.map((e: any) => e.id)).toEqual(['c-root', 'c-child']);
  expect(fromLeaf.descendants).toEqual([]);

  const shallow = (await env.stack.request('GET', '/v1/events/c-root/tree?depth=1')).body;
  expect(shallow.descendants[0].children).toEqual([]);
  expect((await env.stack.request('GET', '/v1/events/c-root/tree?depth=99')).status).toBe(400);
  expect((await env.stack.request('GET', '/v1/events/none/tree')).status).toBe(404);

  const conversation = (await env.stack.request('GET', '/v1/events?correlationId=conv-1')).body.data.map((e: any) => e.id);
  expect(conversation.sort()).toEqual(['c-child', 'c-grandchild', 'c-root', 'c-sibling']);
});

test("a subject's history lists everything that happened to it, newest first, with delivery outcomes", async () => {
  env.receiver.on('/history-bad', () => ({ status: 500 }));
  await api.subscribe(env.stack, env.receiver, '/history-ok', ['pkg.*']);
  await api.subscribe(env.stack, env.receiver, '/history-bad', ['pkg.promoted'], { retry: { maxAttempts: 1 } });
  const pkg = { type: 'package', id: 'herald' };
  await sendAll([
    { id: 'h-1', type: 'pkg.built', data: {}, subject: pkg, occurredAt: '2026-11-20T10:00:00Z' },
    { id: 'h-2', type: 'pkg.promoted', data: {}, subject: pkg, occurredAt: '2026-11-21T10:00:00Z' },
    { id: 'h-3', type: 'pkg.built', data: {}, subject: { type: 'package', id: 'other' }, occurredAt: '2026-11-22T10:00:00Z' },
  ]);
  const page = await env.stack.request('GET', '/v1/subjects/package/herald/events?limit=1');
  expect(page.body.data.map((e: any) => e.id)).toEqual(['h-2']);
  expect(page.body.data[0]).toMatchObject({ status: 'failed', deliveries: { total: 2, succeeded: 1, failed: 1 } });
  const next = await env.stack.request('GET', `/v1/subjects/package/herald/events?limit=1&cursor=${page.body.nextCursor}`);
  expect(next.body.data.map((e: any) => e.id)).toEqual(['h-1']);
  expect(next.body.data[0].deliveries).toEqual({ total: 1, succeeded: 1 });
  expect(next.body.nextCursor).toBeNull();
  expect((await env.stack.request('GET', '/v1/subjects/package/nothing/events')).body).toEqual({ data: [], nextCursor: null });
  expect((await env.stack.request('GET', '/v1/subjects/package/%00/events')).status).toBe(404);
});

test('open=true finds what was opened and never closed by a *.completed or *.failed child, whichever arrived first', async () => {
  await sendAll([
    { id: 'o-done', type: 'rollout.started', data: {} },
    { id: 'o-done-end', type: 'rollout.completed', data: {}, parentId: 'o-done' },
    { id: 'o-late-end', type: 'rollout.failed', data: {}, parentId: 'o-late' }, // the closer arrives before what it closes
    { id: 'o-late', type: 'rollout.started', data: {} },
    { id: 'o-open', type: 'rollout.started', data: {} },
    { id: 'o-progress', type: 'rollout.progressed', data: {}, parentId: 'o-open' }, // a child, but not a closing one
  ]);
  const ids = async (query: string) => (await env.stack.request('GET', `/v1/events?${query}`)).body.data.map((e: any) => e.id).sort();
  expect(await ids('open=true&type=rollout.started')).toEqual(['o-open']);
  expect(await ids('open=false&type=rollout.started')).toEqual(['o-done', 'o-late']);
  expect(await ids('open=true&type=rollout.*')).toEqual(['o-open', 'o-progress']);
  expect(await ids('open=true&q=ROLLOUT')).toEqual(['o-open', 'o-progress']); // closing events are never open themselves
});

test('purging the event that closed another leaves that one closed by its other closer, or open again', async () => {
  await sendAll([
    { id: 'p-one', type: 'migration.started', data: {} },
    { id: 'p-one-end', type: 'migration.completed', data: {}, parentId: 'p-one' },
    { id: 'p-two', type: 'migration.started', data: {} },
    { id: 'p-two-end', type: 'migration.completed', data: {}, parentId: 'p-two' },
    { id: 'p-two-end-again', type: 'migration.failed', data: {}, parentId: 'p-two' },
    // Closers of parents that come after the purge: one alone, and two.
    { id: 'p-three-end', type: 'migration.completed', data: {}, parentId: 'p-three' },
    { id: 'p-four-end', type: 'migration.completed', data: {}, parentId: 'p-four' },
    { id: 'p-four-end-again', type: 'migration.failed', data: {}, parentId: 'p-four' },
  ]);
  const ids = async (query: string) => (await env.stack.request('GET', `/v1/events?${query}`)).body.data.map((e: any) => e.id).sort();
  expect(await ids('open=false&type=migration.started')).toEqual(['p-one', 'p-two']);
  const closedBy = async (id: string) => (await env.stack.store.events.findOne({ _id: eventKey('default', id) }))?.closedBy;
  const marked = async (id: string) => (await env.stack.store.eventMarks.findOne({ _id: eventKey('default', id) }))?.closedBy;
  const named = { two: (await closedBy('p-two'))!, four: (await marked('p-four'))! };

  for (const id of ['p-one-end', named.two, 'p-three-end', named.four]) {
    expect((await env.stack.request('DELETE', `/v1/events/${id}`)).status).toBe(200);
  }
  await sendAll([
    { id: 'p-three', type: 'migration.started', data: {} },
    { id: 'p-four', type: 'migration.started', data: {} },
  ]);
  expect(await ids('open=true&type=migration.started')).toEqual(['p-one', 'p-three']);
  expect(await ids('open=false&type=migration.started')).toEqual(['p-four', 'p-two']);
  const survivor = (named: string, a: string, b: string) => (named === a ? b : a);
  expect(await closedBy('p-two')).toBe(survivor(named.two, 'p-two-end', 'p-two-end-again'));
  expect(await closedBy('p-four')).toBe(survivor(named.four, 'p-four-end', 'p-four-end-again'));
});

test("an event's closure mark and a purge's mark on it share one document, and neither takes the other away", async () => {
  await sendAll([
    { id: 'm-parent', type: 'release.started', data: {} },
    { id: 'm-end', type: 'release.completed', data: {}, parentId: 'm-parent' },
  ]);
  const key = eventKey('default', 'm-parent');
  const marks = () => env.stack.store.eventMarks.findOne({ _id: key });
  expect(await marks()).toEqual({ _id: key, closedBy: 'm-end' });
  // A purge of the parent under way: its first step marked it.
  await markPurging(env.stack.store, 'default', ['m-parent']);
  expect(await marks()).toEqual({ _id: key, closedBy: 'm-end', purgeMarkedAt: expect.any(Date) });

  // Purging the closer opens the parent again: the closure mark goes, the purge's stays.
  expect((await env.stack.request('DELETE', '/v1/events/m-end')).status).toBe(200);
  expect(await marks()).toEqual({ _id: key, purgeMarkedAt: expect.any(Date) });
  expect(await isMarkedForPurge(env.stack.store, 'default', 'm-parent')).toBe(true);

  // A closer recorded meanwhile names the parent beside the purge's mark.
  await sendAll([{ id: 'm-end-again', type: 'release.failed', data: {}, parentId: 'm-parent' }]);
  expect(await marks()).toEqual({ _id: key, closedBy: 'm-end-again', purgeMarkedAt: expect.any(Date) });

  // The purge ends: the parent goes, and its marks with it.
  expect((await env.stack.request('DELETE', '/v1/events/m-parent')).status).toBe(200);
  expect(await marks()).toBeNull();
  expect(await isMarkedForPurge(env.stack.store, 'default', 'm-parent')).toBe(false);
});

test('a closer that retention took stays named: purging a later closer leaves the parent closed by it', async () => {
  await sendAll([
    { id: 'r-parent', type: 'backup.started', data: {} },
    { id: 'r-end', type: 'backup.completed', data: {}, parentId: 'r-parent' },
  ]);
  // Retention takes the closer and keeps its parent (one a digest still holds, say).
  await deleteEventsWithAudit(env.stack.store, 'default', ['r-end']);
  await sendAll([{ id: 'r-end-again', type: 'backup.failed', data: {}, parentId: 'r-parent' }]);
  expect((await env.stack.request('DELETE', '/v1/events/r-end-again')).status).toBe(200);
  expect((await env.stack.store.events.findOne({ _id: eventKey('default', 'r-parent') }))?.closedBy).toBe('r-end');
});

test('an accepted event its workflow has not recorded yet is answered by every read of it; an id never accepted is 404', async () => {
  // No worker: the workflow's first task waits, as behind a backlog, and nothing is recorded.
  await env.stack.worker.kill();
  try {
    // Its parent, c-root, is in the audit since the first test.
    const accepted = await api.send(env.stack, { id: 'c-waiting', type: 'deploy.waiting', data: { n: 1 }, parentId: 'c-root' });
    expect(accepted.duplicate).toBe(false);
    expect(await env.stack.store.events.findOne({ _id: 'default/c-waiting' })).toBeNull();

    const tree = await env.stack.request('GET', '/v1/events/c-waiting/tree');
    expect(tree.status).toBe(200);
    expect(tree.body).toMatchObject({
      event: { id: 'c-waiting', type: 'deploy.waiting', parentId: 'c-root', status: 'delivering' },
      descendants: [],
      truncated: false,
    });
    expect(tree.body.ancestors.map((a: any) => a.id)).toEqual(['c-root']);
    const view = await env.stack.request('GET', '/v1/events/c-waiting');
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ event: { id: 'c-waiting', data: { n: 1 } }, status: 'delivering', deliveries: [] });
    const attempts = await env.stack.request('GET', '/v1/events/c-waiting/attempts');
    expect(attempts).toMatchObject({ status: 200, body: { data: [], nextCursor: null } });

    for (const route of ['/v1/events/never-sent', '/v1/events/never-sent/tree', '/v1/events/never-sent/attempts']) {
      expect((await env.stack.request('GET', route)).status).toBe(404);
    }
  } finally {
    env.stack.worker = await WorkerProcess.start(env.stack.workerEnv);
  }
  expect((await api.finalEvent(env.stack, 'c-waiting')).status).toBe('delivered');
  expect((await env.stack.request('GET', '/v1/events/c-waiting/tree')).body.event.status).toBe('delivered');
});
