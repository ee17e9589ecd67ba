import * as api from '../harness/api';
import { useStack } from '../harness/stack';

/** The event-type registry: descriptions, JSON Schemas that ingestion holds `data` to, and the OpenAPI document. */

const env = useStack();

const promoted = {
  description: 'A package version was promoted to an environment',
  schema: {
    type: 'object',
    properties: {
      package: { type: 'string' },
      version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
      environment: { enum: ['staging', 'production'] },
      approvers: { type: 'array', items: { type: 'string', format: 'email' } },
    },
    required: ['package', 'version', 'environment'],
  },
};

test('a schema-registered type rejects bad data with paths and accepts good data', async () => {
  const put = await env.stack.request('PUT', '/v1/event-types/package.promoted', promoted);
  expect(put.status).toBe(201);
  expect(put.body).toMatchObject({ type: 'package.promoted', description: promoted.description, schema: promoted.schema });
  expect((await env.stack.request('PUT', '/v1/event-types/package.promoted', promoted)).status).toBe(200);

  const bad = await env.stack.request('POST', '/v1/events', {
    type: 'package.promoted',
    data: { package: 'herald', version: 'latest', approvers: ['alice@example.com', 'not-an-address'] },
  });
  expect(bad.status).toBe(400);
  expect(bad.body.errors).toEqual(
    expect.arrayContaining([
      { path: 'data.version', message: expect.stringContaining('pattern') },
      { path: 'data.environment', message: expect.stringContaining('required') },
      { path: 'data.approvers.1', message: expect.stringContaining('format') },
    ]),
  );

  const good = await api.send(env.stack, {
    type: 'package.promoted',
    data: { package: 'herald', version: '1.2.3', environment: 'production' },
  });
  expect(good.duplicate).toBe(false);

  // In a batch, the bad item is named by its index and nothing of the batch starts.
  const batch = await env.stack.request('POST', '/v1/events', {
    events: [
      { id: 'batch-ok', type: 'package.promoted', data: { package: 'a', version: '1.0.0', environment: 'staging' } },
      { id: 'batch-bad', type: 'package.promoted', data: { package: 'a', version: '1.0.0', environment: 'qa' } },
      { id: 'batch-unregistered', type: 'package.built', data: { anything: true } },
    ],
  });
  expect(batch.status).toBe(400);
  expect(batch.body.errors).toEqual([{ path: 'events.1.data.environment', message: expect.stringContaining('allowed values') }]);
  expect((await env.stack.request('GET', '/v1/events/batch-ok')).status).toBe(404);

  // Removing the schema stops the validation.
  expect(
    (await env.stack.request('PUT', '/v1/event-types/package.promoted', { description: 'no schema now' })).body.schema,
  ).toBeUndefined();
  expect((await env.stack.request('POST', '/v1/events', { type: 'package.promoted', data: { version: 'latest' } })).status).toBe(202);
});

test('an invalid schema, type or description is refused with its path', async () => {
  const badSchema = await env.stack.request('PUT', '/v1/event-types/build.done', { description: 'x', schema: { type: 'nonsense' } });
  expect(badSchema.status).toBe(400);
  expect(badSchema.body.errors[0]).toMatchObject({ path: 'schema', message: expect.stringContaining('not a valid JSON Schema') });
  expect((await env.stack.request('PUT', '/v1/event-types/build.done', { schema: {} })).body.errors[0].path).toBe('description');
  expect((await env.stack.request('PUT', '/v1/event-types/Bad Type', { description: 'x' })).status).toBe(404);
  expect((await env.stack.request('GET', '/v1/event-types/never.registered')).status).toBe(404);
});

test('a schema that could be stored but not applied is refused when registered: a number JSON cannot carry, a reference to itself, nesting past 100 levels, a pattern RE2 cannot run', async () => {
  const put = (body: string) => env.stack.request('PUT', '/v1/event-types/build.broken', body);
  const huge = await put('{"description": "x", "schema": {"type": "object", "properties": {"n": {"maximum": 1e400}}}}');
  expect(huge.status).toBe(400);
  expect(huge.body.errors).toEqual([{ path: 'schema.properties.n.maximum', message: 'must be a number JSON can carry (1e400 is not)' }]);
  const itself = await put('{"description": "x", "schema": {"$ref": "#"}}');
  expect(itself.status).toBe(400);
  expect(itself.body.errors[0]).toMatchObject({ path: 'schema', message: expect.stringContaining('cannot be applied to data') });
  const deep = await put(`{"description": "x", "schema": {"examples": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`);
  expect(deep.status).toBe(400);
  expect(deep.body.errors).toEqual([{ path: 'schema', message: 'must not nest more than 100 levels deep' }]);
  // Patterns run on RE2, in linear time, which has no lookaround.
  const lookahead = await put('{"description": "x", "schema": {"type": "string", "pattern": "^(?=a)a$"}}');
  expect(lookahead.status).toBe(400);
  expect(lookahead.body.errors[0]).toMatchObject({ path: 'schema', message: expect.stringContaining('parsing regexp') });
  // None was registered: events of the type are taken as they come.
  expect((await env.stack.request('GET', '/v1/event-types/build.broken')).status).toBe(404);
  expect((await env.stack.request('POST', '/v1/events', { type: 'build.broken', data: { n: 1 } })).status).toBe(202);
});

test('the registry is listed, readable by subscribers, writable by producers, and in the OpenAPI document', async () => {
  await env.stack.request('PUT', '/v1/event-types/user.added', {
    description: 'A user joined',
    schema: { type: 'object', required: ['email'] },
  });
  await env.stack.request('PUT', '/v1/event-types/user.removed', { description: 'A user left' });
  const list = await env.stack.request('GET', '/v1/event-types?limit=1');
  expect(list.body.data.map((t: { type: string }) => t.type)).toEqual(['user.removed']);
  const rest = await env.stack.request('GET', `/v1/event-types?limit=200&cursor=${list.body.nextCursor}`);
  expect(rest.body.data.map((t: { type: string }) => t.type)).toContain('user.added');

  const subscriber = (await api.createKey(env.stack, 'default', ['subscriptions:read'])).key;
  expect((await env.stack.request('GET', '/v1/event-types/user.added', undefined, { authorization: `Bearer ${subscriber}` })).status).toBe(
    200,
  );
  expect(
    (await env.stack.request('PUT', '/v1/event-types/user.added', { description: 'x' }, { authorization: `Bearer ${subscriber}` })).status,
  ).toBe(403);

  const doc = await env.stack.request('GET', '/v1/openapi.json');
  expect(doc.body.webhooks['user.added'].post.requestBody.content['application/json'].schema.properties.data).toEqual({
    type: 'object',
    required: ['email'],
  });
  expect(doc.body.webhooks['user.removed'].post.description).toBe('A user left');
  expect(doc.body.paths['/v1/event-types/{type}'].put).toBeDefined();

  expect((await env.stack.request('DELETE', '/v1/event-types/user.removed')).status).toBe(204);
  expect((await env.stack.request('DELETE', '/v1/event-types/user.removed')).status).toBe(404);
});

test("a new tenant's first writes made at once all succeed: the cache versions they raise are created once", async () => {
  // Each subscription and event-type write raises its tenant's version, which the first write
  // creates; concurrent first writes used to race on that insert and answer 500 (found by the bench).
  for (let round = 0; round < 3; round++) {
    const key = (await api.createKey(env.stack, `burst-${round}`, ['subscriptions:write', 'events:write'])).key;
    const auth = { authorization: `Bearer ${key}` };
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        env.stack.request(
          'POST',
          '/v1/subscriptions',
          { channel: 'webhook', url: `http://127.0.0.1:9/${i}`, eventTypes: ['burst.*'] },
          auth,
        ),
      ),
      ...Array.from({ length: 10 }, (_, i) => env.stack.request('PUT', `/v1/event-types/burst.t${i % 2}`, { description: `d${i}` }, auth)),
    ]);
    expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(201));
    const puts = answers.slice(10).map((a) => a.status);
    expect(puts.filter((s) => s === 201)).toHaveLength(2); // one creation per type, the rest replace it
    expect(puts.filter((s) => s === 200)).toHaveLength(8);
  }
});
