import { WorkflowNotFoundError } from '@temporalio/client';
import { eventWorkflowId } from '../../src/temporal/names';
import { HeraldStatus } from '../../src/temporal/search-attributes';
import * as api from '../harness/api';
import { auditEvents, seedAudit } from '../harness/audit-seed';
import { eventually, useStack } from '../harness/stack';

/** The ingestion log, alerts on refused data, and purge. */

const env = useStack({ rejectionAlertIntervalMs: 5_000 });

const as = (key: string) => ({ authorization: `Bearer ${key}` });

test('ten kinds of bad request are logged with their problems, per tenant, the body cut at 16 KiB and no header kept', async () => {
  const reader = (await api.createKey(env.stack, 'default', ['events:read'])).key;
  await env.stack.request('PUT', '/v1/event-types/log.checked', { description: 'x', schema: { type: 'object', required: ['n'] } });
  const big = JSON.stringify({ type: 'Not A Type', data: { pad: 'x'.repeat(20_000) } });
  const bad: [string, unknown, Record<string, string>?][] = [
    ['malformed JSON', '{"type": '],
    ['missing type', { data: {} }],
    ['bad type', { type: 'Bad Type!', data: {} }],
    ['data not an object', { type: 'log.a', data: [1, 2] }],
    ['unknown field', { type: 'log.a', data: {}, colour: 'red' }],
    ['bad item in a batch', { events: [{ type: 'log.a', data: {} }, { type: 'log.a' }] }],
    ['empty batch', { events: [] }],
    ['data against the schema', { type: 'log.checked', data: {} }],
    ['a 20 KB body', big],
    ['a key without events:write', { type: 'log.a', data: {} }, as(reader)],
    ['over 256 KiB', JSON.stringify({ type: 'log.a', data: { pad: 'x'.repeat(300_000) } })],
    ['a NUL byte in the body', '{"type": "log.a", "data": {}, "x": "a\u0000b"}'],
  ];
  for (const [, body, headers] of bad) {
    const res = await env.stack.request('POST', '/v1/events', body, headers);
    expect(res.status).toBeGreaterThanOrEqual(400);
  }
  const entries = await eventually(async () => {
    const res = await env.stack.request('GET', '/v1/ingest-log?limit=50');
    return res.body.data.length >= bad.length && res.body.data;
  }, 10_000, 'every refusal in the log');
  expect(entries).toHaveLength(bad.length);
  expect(entries.map((e: any) => e.status).sort()).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 403, 413]);
  for (const e of entries) {
    expect(e).toMatchObject({ method: 'POST', route: '/v1/events', problem: expect.objectContaining({ status: e.status, title: expect.any(String) }) });
    expect(JSON.stringify(e)).not.toContain(env.stack.adminKey);
    expect(JSON.stringify(e)).not.toContain(reader);
  }
  const cut = entries.find((e: any) => e.bodyBytes === big.length);
  expect(cut).toMatchObject({ truncated: true, status: 400 });
  expect(cut.body).toHaveLength(16 * 1024);
  expect(entries.find((e: any) => e.problem.errors?.[0]?.path === 'data.n')).toBeDefined();
  expect(entries.find((e: any) => e.status === 403).keyId).not.toBe('admin');
  expect(entries.find((e: any) => e.body.includes('"x"')).body).toBe('{"type": "log.a", "data": {}, "x": "a\ufffdb"}');

  const only413 = await env.stack.request('GET', '/v1/ingest-log?status=413');
  expect(only413.body.data).toHaveLength(1);
  const paged = await env.stack.request('GET', '/v1/ingest-log?limit=4');
  const rest = await env.stack.request('GET', `/v1/ingest-log?limit=50&cursor=${paged.body.nextCursor}`);
  expect([...paged.body.data, ...rest.body.data].map((e: any) => e.id)).toEqual(entries.map((e: any) => e.id));
  const [since, until] = [entries[8].at, entries[3].at]; // both ends inclusive
  const windowed = await env.stack.request('GET', `/v1/ingest-log?limit=50&since=${since}&until=${until}`);
  const inWindow = entries.filter((e: any) => e.at >= since && e.at <= until);
  expect(inWindow.length).toBeGreaterThanOrEqual(6);
  expect(windowed.body.data.map((e: any) => e.id)).toEqual(inWindow.map((e: any) => e.id));

  const other = (await api.createKey(env.stack, 'other-tenant', ['events:read', 'events:write'])).key;
  expect((await env.stack.request('GET', '/v1/ingest-log', undefined, as(other))).body.data).toEqual([]);
  expect((await env.stack.request('GET', '/v1/ingest-log?status=200')).status).toBe(400);
});

test('a burst of 100 bad requests yields one or two herald.ingest.rejected deliveries, counting all 100', async () => {
  const key = (await api.createKey(env.stack, 'bursty', ['events:write', 'subscriptions:write'])).key;
  const sub = await env.stack.request('POST', '/v1/subscriptions', { channel: 'webhook', url: `${env.receiver.url}/rejected`, eventTypes: ['herald.ingest.rejected'] }, as(key));
  expect(sub.status).toBe(201);
  for (let i = 0; i < 100; i++) expect((await env.stack.request('POST', '/v1/events', { type: 'Bad!', data: {} }, as(key))).status).toBe(400);
  const counted = () => env.receiver.received('/rejected').reduce((n, r) => n + JSON.parse(r.body).data.count, 0);
  await eventually(async () => counted() === 100, 30_000, 'all 100 refusals announced');
  const deliveries = env.receiver.received('/rejected');
  expect(deliveries.length).toBeGreaterThanOrEqual(1);
  expect(deliveries.length).toBeLessThanOrEqual(2);
  expect(JSON.parse(deliveries[0]!.body).data.latest).toMatchObject({ status: 400 });
});

test('purge by correlation id removes 1,000 events, cancels the 10 still retrying, and is itself recorded', async () => {
  env.receiver.on('/purge-retrying', () => ({ status: 500 }));
  await api.subscribe(env.stack, env.receiver, '/purge-retrying', ['purge.retrying'], { retry: { schedule: Array(20).fill('1s') } });
  const retrying: string[] = [];
  for (let i = 0; i < 10; i++) retrying.push((await api.send(env.stack, { type: 'purge.retrying', data: { i }, correlationId: 'purge-me' })).id);
  for (const id of retrying) await api.eventWhen(env.stack, id, (v) => v.deliveries[0]?.attempts >= 2, 60_000, 'a retry');
  const quiet = auditEvents(990, new Date(), 'purge').map((e) => ({ ...e, correlationId: 'purge-me' }));
  await seedAudit(env.stack.store, 'default', quiet);
  const kept = await api.send(env.stack, { type: 'purge.kept', data: {}, correlationId: 'keep-me' });

  // Still retrying when the purge comes: 20 more attempts a second apart would follow.
  for (const id of retrying) expect((await env.stack.request('GET', `/v1/events/${id}`)).body.deliveries[0].status).toBe('retrying');
  const purger = (await api.createKey(env.stack, 'default', ['events:purge'])).key;
  expect((await env.stack.request('POST', '/v1/events/purge', { correlationId: 'purge-me' }, as((await api.createKey(env.stack, 'default', ['events:write', 'events:read'])).key))).status).toBe(403);
  const purged = await env.stack.request('POST', '/v1/events/purge', { correlationId: 'purge-me' }, as(purger));
  expect(purged.status).toBe(200);
  expect(purged.body.purged).toBe(1000);

  const sentAtPurge = env.receiver.received('/purge-retrying').length;
  expect((await env.stack.request('GET', '/v1/events?correlationId=purge-me')).body.data).toEqual([]);
  for (const id of [...retrying, quiet[0]!.id]) {
    expect((await env.stack.request('GET', `/v1/events/${id}`)).status).toBe(404);
    expect((await env.stack.request('GET', `/v1/events/${id}/attempts`)).status).toBe(404);
  }
  expect(await env.stack.store.deliveries.countDocuments({ eventId: { $in: retrying } })).toBe(0);
  expect(await env.stack.store.attempts.countDocuments({ eventId: { $in: retrying } })).toBe(0);
  expect((await env.stack.request('GET', '/v1/events/export?correlationId=purge-me')).body).toBeNull(); // an empty answer
  expect((await env.stack.request('GET', `/v1/events/${kept.id}`)).status).toBe(200);
  // Cancelled and closed before the answer, then deleted from Temporal too, whose history holds
  // the event's data: Temporal removes a history in the background, about 20 s after it is asked to.
  const inTemporal = async (id: string) =>
    env.stack.temporal.workflow.getHandle(eventWorkflowId('default', id)).describe().catch((err) => {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    });
  for (const found of await Promise.all(retrying.map(inTemporal))) {
    if (found) expect([found.status.name, found.typedSearchAttributes.get(HeraldStatus)]).toEqual(['COMPLETED', 'cancelled']);
  }
  await eventually(async () => (await Promise.all(retrying.map(inTemporal))).every((found) => found === null), 60_000, 'the purged workflows deleted');
  await new Promise((r) => setTimeout(r, 4_000)); // four more periods of the 1 s schedule
  expect(env.receiver.received('/purge-retrying')).toHaveLength(sentAtPurge);

  const record = await eventually(async () => (await env.stack.request('GET', '/v1/events?type=herald.events.purged')).body.data[0], 30_000, 'the purge record');
  expect(record).toMatchObject({ id: purged.body.recordId, data: { filter: { correlationId: 'purge-me' }, count: 1000, by: expect.stringMatching(/^key:key_/) } });
  expect((await env.stack.request('DELETE', `/v1/events/${record.id}`)).status).toBe(409);
  const window = { since: new Date(Date.now() - 3_600_000).toISOString(), until: new Date(Date.now() + 60_000).toISOString(), type: 'herald.events.*' };
  expect((await env.stack.request('POST', '/v1/events/purge', window)).body.purged).toBe(0);

  expect((await env.stack.request('DELETE', `/v1/events/${kept.id}`)).body).toMatchObject({ purged: 1 });
  expect((await env.stack.request('GET', `/v1/events/${kept.id}`)).status).toBe(404);
  const badPurge = await env.stack.request('POST', '/v1/events/purge', { correlationId: 'x', subjectType: 'package' });
  expect(badPurge.status).toBe(400);
  expect((await env.stack.request('POST', '/v1/events/purge', {})).status).toBe(400);
}, 300_000);

test('purge by subject, and by a time window with a type, removes exactly its selection', async () => {
  const end = new Date('2025-03-01T00:00:00Z');
  const seeded = auditEvents(200, end, 'selected'); // 50 subjects, 5 types, one a second back from `end`
  await seedAudit(env.stack.store, 'default', seeded);
  const ids = async (query: string) => ((await env.stack.request('GET', `/v1/events/export?${query}`)).body ?? '').split('\n').filter(Boolean).map((l: string) => JSON.parse(l).id).sort();
  const all = `since=2025-02-28T00:00:00Z&until=${end.toISOString()}`;
  expect(await ids(all)).toHaveLength(200);

  const subject = seeded.filter((e) => e.subject!.id === 'res-7');
  const bySubject = await env.stack.request('POST', '/v1/events/purge', { subjectType: 'package', subjectId: 'res-7' });
  expect(bySubject.body.purged).toBe(subject.length);
  expect(await ids('subjectType=package&subjectId=res-7')).toEqual([]);

  const [since, until] = [seeded[150]!.occurredAt, seeded[50]!.occurredAt];
  const inWindow = seeded.filter((e) => e.subject!.id !== 'res-7' && e.type === 'package.built' && e.occurredAt >= since && e.occurredAt <= until);
  const byWindow = await env.stack.request('POST', '/v1/events/purge', { since, until, type: 'package.built' });
  expect(byWindow.body.purged).toBe(inWindow.length);
  const gone = new Set([...subject, ...inWindow].map((e) => e.id));
  expect(await ids(all)).toEqual(seeded.filter((e) => !gone.has(e.id)).map((e) => e.id).sort());
});

test('the OpenAPI document describes the ingestion log and purge from the schemas that validate them', async () => {
  const doc: any = await (await fetch(`${env.stack.url}/openapi.json`)).json();
  expect(doc.paths['/v1/ingest-log'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['status', 'since', 'until', 'limit', 'cursor']);
  expect(doc.paths['/v1/events/purge'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Purge' });
  expect(Object.keys(doc.components.schemas.Purge.properties).sort()).toEqual(['correlationId', 'since', 'subjectId', 'subjectType', 'type', 'until']);
  expect(doc.paths['/v1/events/{id}'].delete.responses['409']).toBeDefined();
  expect(doc.components.schemas.IngestLogEntry.required).toEqual(expect.arrayContaining(['status', 'problem', 'body', 'truncated']));
});
