import { once } from 'node:events';
import net from 'node:net';
import * as api from '../harness/api';
import { eventually, useStack } from '../harness/stack';

/** The ingestion log and alerts on refused data. */

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
  const entries = await eventually(
    async () => {
      const res = await env.stack.request('GET', '/v1/ingest-log?limit=50');
      return res.body.data.length >= bad.length && res.body.data;
    },
    10_000,
    'every refusal in the log',
  );
  expect(entries).toHaveLength(bad.length);
  expect(entries.map((e: any) => e.status).sort()).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 403, 413]);
  for (const e of entries) {
    expect(e).toMatchObject({
      method: 'POST',
      route: '/v1/events',
      problem: expect.objectContaining({ status: e.status, title: expect.any(String) }),
    });
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
  expect((await env.stack.request('GET', '/v1/ingest-log?status=100')).status).toBe(400);
});

test('a burst of 100 bad requests yields one or two herald.ingest.rejected deliveries, counting all 100', async () => {
  const key = (await api.createKey(env.stack, 'bursty', ['events:write', 'subscriptions:write'])).key;
  const sub = await env.stack.request(
    'POST',
    '/v1/subscriptions',
    { channel: 'webhook', url: `${env.receiver.url}/rejected`, eventTypes: ['herald.ingest.rejected'] },
    as(key),
  );
  expect(sub.status).toBe(201);
  // At once, as a burst is: one after another on a busy machine they could span three alert intervals.
  const statuses = await Promise.all(
    Array.from({ length: 100 }, async () => (await env.stack.request('POST', '/v1/events', { type: 'Bad!', data: {} }, as(key))).status),
  );
  expect(statuses).toEqual(Array(100).fill(400));
  const counted = () => env.receiver.received('/rejected').reduce((n, r) => n + JSON.parse(r.body).data.count, 0);
  await eventually(() => counted() === 100, 30_000, 'all 100 refusals announced');
  const deliveries = env.receiver.received('/rejected');
  expect(deliveries.length).toBeGreaterThanOrEqual(1);
  expect(deliveries.length).toBeLessThanOrEqual(2);
  expect(JSON.parse(deliveries[0].body).data.latest).toMatchObject({ status: 400 });
});

test('a batch whose client went away before the answer is logged with the events it accepted', async () => {
  const ids = Array.from({ length: 300 }, (_, i) => `gone-${i}`);
  const body = JSON.stringify({ events: ids.map((id) => ({ id, type: 'log.gone', data: {} })) });
  const socket = net.connect(Number(new URL(env.stack.url).port), '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  socket.write(
    `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${env.stack.adminKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // Gone while its 300 workflows start: the API answers a socket nobody reads.
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
  await api.finalEvent(env.stack, ids[299], 60_000);
  await eventually(
    async () => {
      const log = await env.stack.request('GET', '/v1/ingest-log?status=202&limit=50');
      return log.body.data.some((entry: { eventIds?: string[] }) => entry.eventIds?.length === 300 && entry.eventIds[0] === ids[0]);
    },
    15_000,
    'the entry of the batch',
  );
});

test('the OpenAPI document describes the ingestion log from the schemas that validate it', async () => {
  const doc: any = await (await fetch(`${env.stack.url}/openapi.json`)).json();
  expect(doc.paths['/v1/ingest-log'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
    'status',
    'since',
    'until',
    'limit',
    'cursor',
  ]);
  expect(doc.components.schemas.IngestLogEntry.required).toEqual(expect.arrayContaining(['status', 'problem', 'body', 'truncated']));
});
