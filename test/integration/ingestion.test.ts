import { createApp } from '../../src/api/app';
import { freePort } from '../harness/servers';
import { startReceiver, type Receiver } from '../harness/receiver';
import { eventually, sharedServers, startStack, type TestStack } from '../harness/stack';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { AddressInfo } from 'node:net';
import { findEvent } from '../../src/store/events';
import { startDeliverEvent } from '../../src/temporal/deliver-event-client';
import { BATCH_SLOTS_PER_TENANT } from '../../src/temporal/event-batches';
import { eventBatchWorkflowId, eventWorkflowId, START_EVENTS_WORKFLOW } from '../../src/temporal/names';
import { HeraldTenant } from '../../src/temporal/search-attributes';
import type { startEvents } from '../../src/workflows/start-events';

let stack: TestStack;
let receiver: Receiver;

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startReceiver()]);
  const res = await stack.request('POST', '/v1/subscriptions', { channel: 'webhook', url: `${receiver.url}/all`, eventTypes: ['*'] });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

async function delivered(id: string) {
  return eventually(
    async () => {
      const res = await stack.request('GET', `/v1/events/${id}`);
      return res.status === 200 && res.body.status === 'delivered' ? res.body : undefined;
    },
    120_000,
    `event ${id} delivered`,
  );
}

function bodiesFor(id: string) {
  return receiver.received('/all').filter((r) => JSON.parse(r.body).id === id);
}

test('an event without an id gets a generated evt_ id and is answered 202 with its workflow id', async () => {
  const res = await stack.request('POST', '/v1/events', { type: 'user.added', data: { name: 'ada' } });
  expect(res.status).toBe(202);
  expect(res.body.id).toMatch(/^evt_/);
  expect(res.body).toMatchObject({ workflowId: `event/default/${res.body.id}`, duplicate: false });
  await delivered(res.body.id);
});

test('re-sending an id answers the original with duplicate: true and delivers once, also when requests race', async () => {
  const event = { id: 'dup-1', type: 'user.added', data: {} };
  const answers = await Promise.all([1, 2, 3, 4].map(() => stack.request('POST', '/v1/events', event)));
  expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
  expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
  await delivered('dup-1');
  const again = await stack.request('POST', '/v1/events', event);
  expect(again.body).toEqual({ id: 'dup-1', workflowId: 'event/default/dup-1', duplicate: true });
  await new Promise((r) => setTimeout(r, 1000));
  expect(bodiesFor('dup-1')).toHaveLength(1);
});

test('an id whose workflow Temporal no longer has is still a duplicate: the audit catches it', async () => {
  // An event recorded long ago, whose workflow namespace retention has since removed: it is
  // in the audit and nowhere in Temporal.
  const at = new Date(Date.now() - 90 * 86_400_000);
  await stack.store.events.insertOne({
    _id: 'default/dup-retained',
    tenant: 'default',
    id: 'dup-retained',
    type: 'user.added',
    dataJson: '{}',
    occurredAt: at,
    receivedAt: at,
    workflowId: 'event/default/dup-retained',
    runId: 'long-gone',
    status: 'delivered',
  });
  const handle = stack.temporal.workflow.getHandle('event/default/dup-retained');
  await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

  const again = await stack.request('POST', '/v1/events', { id: 'dup-retained', type: 'user.added', data: {} });
  expect(again.status).toBe(202);
  expect(again.body).toEqual({ id: 'dup-retained', workflowId: 'event/default/dup-retained', duplicate: true });
  await new Promise((r) => setTimeout(r, 1000));
  await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError); // nothing was started
  expect(bodiesFor('dup-retained')).toHaveLength(0);
});

test('a batch of 500 events is accepted whole, in input order', async () => {
  const events = Array.from({ length: 500 }, (_, i) => ({ id: `batch-${i}`, type: 'batch.item', data: { i } }));
  const res = await stack.request('POST', '/v1/events', { events });
  expect(res.status).toBe(202);
  expect(res.body.results).toHaveLength(500);
  expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(events.map((e) => e.id));
  expect(res.body.results.every((r: { duplicate: boolean }) => r.duplicate === false)).toBe(true);
  await eventually(
    async () => {
      const page = await stack.request('GET', '/v1/events?type=batch.*&limit=200');
      return page.body.data.length === 200 && page.body.nextCursor ? true : undefined;
    },
    60_000,
    'the batch to be recorded',
  );
});

test('a batch sent with Prefer: respond-async is answered once one workflow holds it; each event is then delivered once, an id used before not again', async () => {
  await stack.request('POST', '/v1/events', { id: 'later-used', type: 'later.item', data: {} });
  await delivered('later-used');
  const events = [
    ...Array.from({ length: 12 }, (_, i) => ({ id: `later-${i}`, type: 'later.item', data: { i } })),
    { id: 'later-used', type: 'later.item', data: {} },
  ];
  const res = await stack.request('POST', '/v1/events', { events }, { prefer: 'wait=10, respond-async' });
  expect(res.status).toBe(202);
  expect(res.headers.get('preference-applied')).toBe('respond-async');
  expect(res.body).toEqual({
    workflowId: expect.stringMatching(/^events-batch\/default\/\d+$/),
    runId: expect.any(String),
    // Input order; whether an id was used before is not known yet, so no `duplicate`.
    results: events.map((e) => ({ id: e.id, workflowId: `event/default/${e.id}` })),
  });
  for (const { id } of events) await delivered(id);
  const batch = stack.temporal.workflow.getHandle(res.body.workflowId, res.body.runId);
  const { started, duplicates } = await batch.result();
  // A retried activity counts what its first try started as duplicates: the sum is what holds.
  expect(started + duplicates).toBe(13);
  expect(duplicates).toBeGreaterThanOrEqual(1);
  expect((await batch.describe()).type).toBe('startEvents');
  await new Promise((r) => setTimeout(r, 1000));
  for (const { id } of events) expect(bodiesFor(id)).toHaveLength(1);
});

describe('batches still starting (a tenant of their own)', () => {
  const tenant = 'batches';
  /** A task queue no worker polls: a batch there holds its slot and its events, as one still starting does. */
  const stalled = 'no-worker-polls-this';
  let as: Record<string, string>;
  const heldEvent = (id: string) => ({
    id,
    type: 'held.item',
    data: { id },
    correlationId: 'held-batch',
    occurredAt: '2026-12-08T00:00:00.000Z',
    receivedAt: '2026-12-08T00:00:00.000Z',
  });
  const stalledBatch = (slot: number, events: ReturnType<typeof heldEvent>[]) =>
    stack.temporal.workflow.start<typeof startEvents>(START_EVENTS_WORKFLOW, {
      workflowId: eventBatchWorkflowId(tenant, slot),
      taskQueue: stalled,
      args: [{ tenant, events }],
      typedSearchAttributes: [{ key: HeraldTenant, value: tenant }],
    });

  beforeAll(async () => {
    const key = await stack.request('POST', '/v1/api-keys', {
      name: 'batches',
      tenant,
      scopes: ['events:read', 'events:write', 'events:purge'],
    });
    expect(key.status).toBe(201);
    as = { authorization: `Bearer ${key.body.key}` };
  });

  test('past 16 batches starting a batch is refused; an event a batch holds is read from it, and a cancel waits for the batch to start it', async () => {
    const held = heldEvent('held-1');
    const batches = await Promise.all(
      Array.from({ length: BATCH_SLOTS_PER_TENANT }, (_, slot) => stalledBatch(slot, slot === 3 ? [held] : [])),
    );
    try {
      const refused = await stack.request(
        'POST',
        '/v1/events',
        { events: [{ id: 'held-2', type: 'held.item', data: {} }] },
        { ...as, prefer: 'respond-async' },
      );
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.body.detail).toMatch(/^This tenant has 16 batches still starting their events; nothing of this one was accepted/);

      expect((await stack.request('GET', '/v1/events/held-1', undefined, as)).body).toEqual({
        event: held,
        status: 'delivering',
        deliveries: [],
        filteredOut: [],
      });
      expect((await stack.request('GET', '/v1/events/held-1/attempts', undefined, as)).body).toEqual({ data: [], nextCursor: null });
      expect((await stack.request('GET', '/v1/events/held-2', undefined, as)).status).toBe(404);
      expect((await stack.request('POST', '/v1/events/held-2/cancel', {}, as)).status).toBe(404);

      let answered = false;
      const cancel = stack.request('POST', '/v1/events/held-1/cancel', {}, as).finally(() => (answered = true));
      await new Promise((r) => setTimeout(r, 1500));
      expect(answered).toBe(false);
      // What the batch does: start the event's workflow (here where no worker runs it either).
      const workflowId = eventWorkflowId(tenant, 'held-1');
      await startDeliverEvent(stack.temporal, stalled, workflowId, { tenant, event: held });
      const cancelled = await cancel;
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toEqual({ workflowIds: [workflowId] });
      await stack.temporal.workflow.getHandle(workflowId).terminate('test done');
    } finally {
      await Promise.all(batches.map((b) => b.terminate('test done')));
    }
  });

  test('a retry of a held event whose run ended while the retry waited for its batch acts on the recorded event', async () => {
    const held = heldEvent('held-3');
    const batch = await stalledBatch(7, [held]);
    try {
      let answered = false;
      const retry = stack.request('POST', '/v1/events/held-3/retry', {}, as).finally(() => (answered = true));
      await new Promise((r) => setTimeout(r, 1000));
      expect(answered).toBe(false);
      // What the batch does, here on the worker's queue: the run finds no subscription, records the event and ends.
      await startDeliverEvent(stack.temporal, stack.taskQueue, eventWorkflowId(tenant, 'held-3'), { tenant, event: held });
      await eventually(
        async () => ((await findEvent(stack.store, tenant, 'held-3'))?.status === 'delivered' ? true : undefined),
        60_000,
        'held-3 recorded',
      );
      await batch.terminate('test done');
      const answer = await retry;
      // Not a 404: recorded and delivered, nothing to retry; or, when a look caught the short run
      // still open, signalled there.
      expect(answer.status).toBe(202);
      expect([[], [eventWorkflowId(tenant, 'held-3')]]).toContainEqual(answer.body.workflowIds);
    } finally {
      await batch.terminate('test done').catch(() => undefined);
    }
  });

  test("a purge waits for the tenant's batches still starting, then deletes the history of the batch that started the events with theirs", async () => {
    const events = ['later-p1', 'later-p2'].map((id) => ({ id, type: 'held.item', data: {}, correlationId: 'purge-later' }));
    const accepted = await stack.request('POST', '/v1/events', { events }, { ...as, prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    await stack.temporal.workflow.getHandle(accepted.body.workflowId, accepted.body.runId).result();
    for (const { id } of events) {
      await eventually(
        async () => ((await findEvent(stack.store, tenant, id))?.status === 'delivered' ? true : undefined),
        60_000,
        `${id} recorded`,
      );
    }
    // Each event keeps the batch run that started it, for the purge.
    expect((await findEvent(stack.store, tenant, 'later-p1'))?.batch).toEqual({
      workflowId: accepted.body.workflowId,
      runId: accepted.body.runId,
    });
    const stalledRun = await stalledBatch(5, []);
    let answered = false;
    const purge = stack.request('POST', '/v1/events/purge', { correlationId: 'purge-later' }, as).finally(() => (answered = true));
    await new Promise((r) => setTimeout(r, 1500));
    expect(answered).toBe(false);
    await stalledRun.terminate('test done');
    const purged = await purge;
    expect(purged.status).toBe(200);
    expect(purged.body.purged).toBe(2);
    expect(await findEvent(stack.store, tenant, 'later-p1')).toBeNull();
    // Temporal removes a deleted history in the background, in one queue for the whole server:
    // seconds when it is idle, minutes behind another test's thousand purged workflows
    // (purge.test.ts).
    await eventually(
      async () => {
        try {
          await stack.temporal.workflow.getHandle(accepted.body.workflowId, accepted.body.runId).describe();
          return undefined;
        } catch (err) {
          return err instanceof WorkflowNotFoundError ? true : undefined;
        }
      },
      240_000,
      `batch ${accepted.body.workflowId} deleted`,
    );
    // A batch that held none of the purged events keeps its history.
    expect((await stalledRun.describe()).status.name).toBe('TERMINATED');
  }, 300_000);
});

test('Prefer: respond-async on a single event changes nothing: it is answered once its own workflow started', async () => {
  const res = await stack.request('POST', '/v1/events', { id: 'later-single', type: 'later.item', data: {} }, { prefer: 'respond-async' });
  expect(res.status).toBe(202);
  expect(res.headers.get('preference-applied')).toBeNull();
  expect(res.body).toEqual({ id: 'later-single', workflowId: 'event/default/later-single', duplicate: false });
  await delivered('later-single');
});

test('a batch with one invalid item is rejected whole with the item path, and nothing of it starts', async () => {
  const events = [
    { id: 'bad-batch-0', type: 'ok.type', data: {} },
    { id: 'bad-batch-1', type: 'Not A Type', data: {} },
    { id: 'bad-batch-2', type: 'ok.type', data: {} },
  ];
  const res = await stack.request('POST', '/v1/events', { events });
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(res.body.errors).toEqual([expect.objectContaining({ path: 'events.1.type' })]);
  await new Promise((r) => setTimeout(r, 1000));
  for (const id of ['bad-batch-0', 'bad-batch-2']) {
    expect((await stack.request('GET', `/v1/events/${id}`)).status).toBe(404);
  }
});

test('bad input gets problem+json and stores nothing', async () => {
  const cases: [string, unknown, number, string?][] = [
    ['malformed JSON', '{"type": ', 400],
    ['missing type and data', { id: 'x1' }, 400, 'type'],
    ['data not an object', { type: 'a.b', data: [1] }, 400, 'data'],
    ['bad type syntax', { type: 'A..b', data: {} }, 400, 'type'],
    ['unknown field', { type: 'a.b', data: {}, colour: 'red' }, 400, 'colour'],
    ['bad id characters', { id: 'has space', type: 'a.b', data: {} }, 400, 'id'],
    // Herald's own: a client's event must not pre-empt (by id) or pose as (by type) one it emits.
    ['a type reserved for Herald', { id: 'x2', type: 'herald.subscription.deleted', data: {} }, 400, 'type'],
    ['an id reserved for Herald', { id: 'herald:key_x:revoked', type: 'a.b', data: {} }, 400, 'id'],
    ['the export route as an id', { id: 'export', type: 'a.b', data: {} }, 400, 'id'],
    ['body over 256 KiB', { type: 'a.b', data: { big: 'x'.repeat(300 * 1024) } }, 413],
  ];
  for (const [what, body, status, path] of cases) {
    const res = await stack.request('POST', '/v1/events', body);
    expect({ what, status: res.status }).toEqual({ what, status });
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
    if (path) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  }
  expect(await stack.store.events.countDocuments({ id: { $in: ['x1', 'has space', 'x2', 'herald:key_x:revoked', 'export'] } })).toBe(0);
});

test('a missing or unknown key is 401; a subscription URL that is not http(s) is 400', async () => {
  const noKey = await fetch(`${stack.url}/v1/events`, { method: 'POST', body: '{}' });
  expect(noKey.status).toBe(401);
  const badKey = await stack.request('GET', '/v1/events', undefined, { authorization: 'Bearer nope' });
  expect(badKey.status).toBe(401);
  for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'not a url']) {
    const res = await stack.request('POST', '/v1/subscriptions', { channel: 'webhook', url, eventTypes: ['*'] });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('url');
  }
});

test('the Temporal UI can find a delivery by HeraldEventType and sees HeraldStatus move to delivered', async () => {
  const res = await stack.request('POST', '/v1/events', { id: 'sa-1', type: 'search.attr', data: {} });
  await delivered(res.body.id);
  const found = await eventually(
    async () => {
      const ids: string[] = [];
      for await (const wf of stack.temporal.workflow.list({ query: `HeraldEventType = "search.attr" AND HeraldStatus = "delivered"` })) {
        ids.push(wf.workflowId);
      }
      return ids.length ? ids : undefined;
    },
    20_000,
    'the workflow in visibility',
  );
  expect(found).toEqual(['event/default/sa-1']);
});

test('the workflow status query answers in the shape of GET /v1/events/{id}', async () => {
  const res = await stack.request('POST', '/v1/events', { id: 'query-1', type: 'query.test', data: { a: 1 } });
  const view = await delivered(res.body.id);
  const queried: any = await stack.temporal.workflow.getHandle('event/default/query-1').query('status');
  expect(queried).toMatchObject({ status: 'delivered', event: { id: 'query-1', type: 'query.test', data: { a: 1 } } });
  expect(queried.deliveries.map((d: { subscriptionId: string; status: string }) => [d.subscriptionId, d.status])).toEqual(
    view.deliveries.map((d: { subscriptionId: string; status: string }) => [d.subscriptionId, d.status]),
  );
});

test('lists page newest first with a cursor and filter by type prefix, actor and subject', async () => {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const events = Array.from({ length: 7 }, (_, i) => ({
    id: `list-${i}`,
    type: i % 2 ? 'deploy.failed' : 'deploy.succeeded',
    data: {},
    actor: i < 3 ? 'alice' : 'bob',
    subject: { type: 'env', id: i < 5 ? 'prod' : 'staging' },
    occurredAt: new Date(base + i * 1000).toISOString(),
  }));
  expect((await stack.request('POST', '/v1/events', { events })).status).toBe(202);
  await eventually(async () => (await stack.request('GET', '/v1/events?type=deploy.*&limit=200')).body.data.length === 7 || undefined);

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { data: { id: string }[]; nextCursor: string | null } } = await stack.request(
      'GET',
      `/v1/events?type=deploy.*&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
    );
    seen.push(...page.body.data.map((e) => e.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen).toEqual(['list-6', 'list-5', 'list-4', 'list-3', 'list-2', 'list-1', 'list-0']);

  const ids = async (q: string) => (await stack.request('GET', `/v1/events?${q}`)).body.data.map((e: { id: string }) => e.id);
  expect(await ids('type=deploy.failed')).toEqual(['list-5', 'list-3', 'list-1']);
  expect(await ids('actor=alice&type=deploy.*')).toEqual(['list-2', 'list-1', 'list-0']);
  expect(await ids('subjectType=env&subjectId=staging')).toEqual(['list-6', 'list-5']);
  expect(await ids(`type=deploy.*&since=${new Date(base + 2000).toISOString()}&until=${new Date(base + 4000).toISOString()}`)).toEqual([
    'list-4',
    'list-3',
    'list-2',
  ]);
  expect((await stack.request('GET', '/v1/events?limit=201')).status).toBe(400);
  expect((await stack.request('GET', '/v1/events?cursor=garbage')).status).toBe(400);
});

test('health, readiness, metrics and the OpenAPI document need no key', async () => {
  expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
  const ready = await fetch(`${stack.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ temporal: true, store: true });
  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  expect(metrics).toMatch(/herald_events_accepted_total\{duplicate="false",process="api"\} \d+/);
  const openapi: any = await (await fetch(`${stack.url}/openapi.json`)).json();
  expect(openapi.openapi).toBe('3.1.0');
  expect(openapi.components.schemas.EventInput.properties.type).toBeDefined();
  expect(openapi.paths['/v1/events'].post).toBeDefined();
});

test("the request-duration metric names each route as it is mounted: errors too, whatever the path's case", async () => {
  expect((await stack.request('POST', '/v1/events', { type: 'Not A Type', data: {} })).status).toBe(400);
  for (const spelling of ['/v1/subscriptions/none', '/V1/Subscriptions/none', '/v1/sUbscriptions/none']) {
    expect((await stack.request('GET', spelling)).status).toBe(404);
  }
  const metrics = await (await fetch(`${stack.url}/metrics`)).text();
  const routes = new Set([...metrics.matchAll(/herald_http_request_duration_seconds_count\{[^}]*route="([^"]*)"/g)].map((m) => m[1]));
  expect(metrics).toMatch(/_count\{[^}]*method="POST",route="\/v1\/events\/",status="400"\} \d+/);
  expect(metrics).toMatch(/_count\{[^}]*method="GET",route="\/v1\/subscriptions\/:id",status="404"\} ([3-9]|\d\d+)\n/);
  expect([...routes].filter((r) => /subscriptions/i.test(r) && r !== '/v1/subscriptions/:id' && r !== '/v1/subscriptions/')).toEqual([]);
  expect(routes.has('/')).toBe(false);
  expect(routes.has('/:id')).toBe(false);
});

/** Herald's API on this stack's store with a Temporal client of the test's own, for `/v1/events`. */
async function apiWith(connection: Connection, namespace: string) {
  const temporal = new Client({ connection, namespace });
  const app = createApp({ ...stack.appDeps, temporal, connection });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' };
  return {
    url,
    post: (body: unknown, extra: Record<string, string> = {}) =>
      fetch(`${url}/v1/events`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await connection.close();
    },
  };
}

test('when Temporal cannot be reached, ingestion answers 503 with Retry-After and accepts nothing', async () => {
  const deadPort = await freePort();
  // Without the default gRPC retries: a retry still pending when the connection closes below
  // fires into a closed channel and throws "Channel has been shut down" into this test.
  const connection = Connection.lazy({ address: `127.0.0.1:${deadPort}`, interceptors: [] });
  const api = await apiWith(connection, 'default');
  try {
    const single = await api.post({ id: 'down-1', type: 'a.b', data: {} });
    expect(single.status).toBe(503);
    expect(single.headers.get('retry-after')).toBe('5');
    const batch = await api.post({ events: [{ id: 'down-2', type: 'a.b', data: {} }] });
    expect(batch.status).toBe(503);
    const body: any = await batch.json();
    expect(body.results[0]).toMatchObject({ id: 'down-2', error: expect.stringMatching(/resend/) });
    const later = await api.post({ events: [{ id: 'down-3', type: 'a.b', data: {} }] }, { prefer: 'respond-async' });
    expect(later.status).toBe(503);
    expect(later.headers.get('retry-after')).toBe('5');
    expect(((await later.json()) as { detail: string }).detail).toMatch(/^Temporal is unavailable; nothing was changed/);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
  } finally {
    await api.close();
  }
  // Nothing was started: the same ids are new when Temporal is back.
  for (const id of ['down-1', 'down-3']) {
    const retry = await stack.request('POST', '/v1/events', { id, type: 'a.b', data: {} });
    expect(retry.body.duplicate).toBe(false);
  }
});

test("when Temporal's namespace lacks Herald's search attributes, ingestion answers 503 saying so and accepts nothing", async () => {
  // A namespace of its own, without the search attributes the test server registers in `default`.
  const namespace = `herald-no-attributes-${Date.now()}`;
  const connection = await Connection.connect({ address: sharedServers().temporalAddress });
  let api: Awaited<ReturnType<typeof apiWith>> | undefined;
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    api = await apiWith(connection, namespace);
    // Until Temporal's namespace cache has the new namespace, a start is refused as "not found".
    const single = await eventually(
      async () => {
        const res = await api!.post({ id: 'no-sa-1', type: 'a.b', data: {} });
        return res.status === 503 ? res : undefined;
      },
      60_000,
      'the new namespace to take starts',
    );
    expect(single.headers.get('retry-after')).toBe('5');
    expect(((await single.json()) as { detail: string }).detail).toMatch(
      /^Temporal's namespace does not accept the search attribute Herald\w+: Herald's search attributes must be registered in it/,
    );
    const batch = await api.post({ events: [{ id: 'no-sa-2', type: 'a.b', data: {} }] });
    expect(batch.status).toBe(503);
    const body = (await batch.json()) as { results: Array<{ id: string; error: string }> };
    expect(body.results[0]).toMatchObject({
      id: 'no-sa-2',
      error: expect.stringMatching(/search attribute Herald\w+.*resend this event with the same id$/),
    });
    const later = await api.post({ events: [{ id: 'no-sa-3', type: 'a.b', data: {} }] }, { prefer: 'respond-async' });
    expect(later.status).toBe(503);
    expect(((await later.json()) as { detail: string }).detail).toMatch(/search attribute Herald\w+.*resend this batch with the same ids$/);
    // Nothing was started there.
    const there = new Client({ connection, namespace });
    for (const id of ['no-sa-1', 'no-sa-2', 'no-sa-3']) {
      await expect(there.workflow.getHandle(`event/default/${id}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
  } finally {
    await (api?.close() ?? connection.close());
  }
});
