import os from 'node:os';
import { newSubscriptionId } from '../../src/domain/ids';
import * as api from '../harness/api';
import { eventually, useStack, WorkerProcess, type TestStack } from '../harness/stack';
import { insertSubscription } from '../../src/store/subscriptions';

/** API keys, tenants, scopes, secrets at rest, outbound target safety and limits. */

// Guard off (deliveries to the loopback receiver work): tenants, scopes, keys, secrets.
const open = useStack();
// Guard on, small limits: target refusals, rate limit, subscription cap.
const guarded = useStack({ allowPrivateTargets: false, ingestRate: 20, maxSubscriptionsPerTenant: 3 });

const ALL_SCOPES = ['events:write', 'events:read', 'subscriptions:write', 'subscriptions:read'];

const { createKey } = api;

function as(stack: TestStack, key: string) {
  return (method: string, route: string, body?: unknown) => stack.request(method, route, body, { authorization: `Bearer ${key}` });
}

describe('API keys', () => {
  test('are shown once, listed without the key, and revocation takes effect on the next request', async () => {
    const created = await createKey(open.stack, 'revoke-me', ['events:read']);
    expect(created.key).toMatch(/^hk_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const call = as(open.stack, created.key);
    expect((await call('GET', '/v1/events')).status).toBe(200);

    const listed = (await open.stack.request('GET', '/v1/api-keys')).body.data.find((k: any) => k.id === created.id);
    expect(listed).toMatchObject({ id: created.id, tenant: 'revoke-me', scopes: ['events:read'], revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(created.prefix.length));

    expect((await open.stack.request('DELETE', `/v1/api-keys/${created.id}`)).status).toBe(204);
    const after = await call('GET', '/v1/events');
    expect(after.status).toBe(401);
    expect(after.body.detail).toContain('revoked');
    expect((await open.stack.request('DELETE', '/v1/api-keys/key_missing')).status).toBe(404);
  });

  test("herald.api_key.created and revoked are events of the key's tenant", async () => {
    const reader = await createKey(open.stack, 'audited', ['events:read']);
    const other = await createKey(open.stack, 'audited', ['events:write']);
    await open.stack.request('DELETE', `/v1/api-keys/${other.id}`);
    const types = await eventually(
      async () => {
        const res = await as(open.stack, reader.key)('GET', '/v1/events?type=herald.api_key.*');
        const found = res.body.data
          .filter((e: any) => e.subject.id === other.id)
          .map((e: any) => e.type)
          .sort();
        return found.length === 2 ? found : undefined;
      },
      20_000,
      'the key events',
    );
    expect(types).toEqual(['herald.api_key.created', 'herald.api_key.revoked']);
  });

  test('bad keys and bad requests to create them are refused clearly', async () => {
    expect((await open.stack.request('GET', '/v1/events', undefined, { authorization: 'Bearer hk_nope' })).status).toBe(401);
    expect((await open.stack.request('GET', '/v1/events', undefined, { authorization: '' })).status).toBe(401);
    const forged = `hk_${'0'.repeat(26)}_${'A'.repeat(43)}`;
    expect((await open.stack.request('GET', '/v1/events', undefined, { authorization: `Bearer ${forged}` })).status).toBe(401);
    const bad = await open.stack.request('POST', '/v1/api-keys', {
      name: '',
      tenant: 'Not/A/Tenant',
      scopes: ['events:everything'],
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(['extra', 'name', 'scopes.0', 'tenant']);
    const key = await createKey(open.stack, 'not-admin', ALL_SCOPES);
    for (const [method, route] of [
      ['GET', '/v1/api-keys'],
      ['POST', '/v1/api-keys'],
      ['DELETE', `/v1/api-keys/${key.id}`],
    ]) {
      expect(
        (await as(open.stack, key.key)(method, route, method === 'POST' ? { name: 'x', tenant: 'x', scopes: ['events:read'] } : undefined))
          .status,
      ).toBe(403);
    }
  });
});

describe('tenant isolation', () => {
  test("another tenant's ids answer 404 on every route, and lists never mix", async () => {
    const alpha = as(open.stack, (await createKey(open.stack, 'alpha', ALL_SCOPES)).key);
    const beta = as(open.stack, (await createKey(open.stack, 'beta', ALL_SCOPES)).key);
    const sub = (await alpha('POST', '/v1/subscriptions', { channel: 'webhook', url: `${open.receiver.url}/alpha`, eventTypes: ['iso.*'] }))
      .body;
    expect((await alpha('POST', '/v1/events', { id: 'iso-1', type: 'iso.test', data: { secret: 'alpha-only' } })).status).toBe(202);
    await eventually(async () => (await alpha('GET', '/v1/events/iso-1')).body.status === 'delivered', 20_000, "alpha's event");

    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/events/iso-1'],
      ['GET', '/v1/events/iso-1/attempts'],
      ['POST', '/v1/events/iso-1/cancel', {}],
      ['POST', '/v1/events/iso-1/retry', {}],
      ['POST', '/v1/events/iso-1/replay', {}],
      ['GET', `/v1/subscriptions/${sub.id}`],
      ['PATCH', `/v1/subscriptions/${sub.id}`, { name: 'stolen' }],
      ['POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {}],
      ['POST', `/v1/subscriptions/${sub.id}/test`, {}],
      ['POST', `/v1/subscriptions/${sub.id}/recover`, { since: '2020-01-01T00:00:00Z' }],
      ['DELETE', `/v1/subscriptions/${sub.id}`],
    ];
    for (const [method, route, body] of routes) {
      const res = await beta(method, route, body);
      expect({ route: `${method} ${route}`, status: res.status }).toEqual({ route: `${method} ${route}`, status: 404 });
    }
    // Filters over an id of alpha's find nothing for beta, and lists never show alpha's data.
    expect((await beta('GET', `/v1/events?correlationId=x`)).body.data).toEqual([]);
    expect((await beta('GET', '/v1/events')).body.data.map((e: any) => e.id)).not.toContain('iso-1');
    expect((await beta('GET', '/v1/subscriptions')).body.data.map((s: any) => s.id)).not.toContain(sub.id);
    // Event ids are per tenant: beta may use alpha's id for an event of its own.
    expect((await beta('POST', '/v1/events', { id: 'iso-1', type: 'iso.test', data: {} })).body.duplicate).toBe(false);
    // And alpha's data is untouched by all of that.
    expect((await alpha('GET', `/v1/subscriptions/${sub.id}`)).body.name).toBeUndefined();
    expect((await alpha('GET', '/v1/events/iso-1')).body.event.data).toEqual({ secret: 'alpha-only' });
    expect(open.receiver.received('/alpha')).toHaveLength(1);
  });
});

describe('scopes', () => {
  test('each scope opens exactly its routes: 403 everywhere else', async () => {
    const routes: [string, string, string, unknown?][] = [
      ['events:write', 'POST', '/v1/events', { type: 'scope.test', data: {} }],
      ['events:read', 'GET', '/v1/events'],
      ['events:read', 'GET', '/v1/events/none'],
      ['events:read', 'GET', '/v1/events/none/attempts'],
      ['events:write', 'POST', '/v1/events/none/cancel', {}],
      ['events:write', 'POST', '/v1/events/none/retry', {}],
      ['events:write', 'POST', '/v1/events/none/replay', {}],
      [
        'subscriptions:write',
        'POST',
        '/v1/subscriptions',
        { channel: 'webhook', url: `${open.receiver.url}/scope`, eventTypes: ['scope.none'] },
      ],
      ['subscriptions:read', 'GET', '/v1/subscriptions'],
      ['subscriptions:read', 'GET', '/v1/subscriptions/sub_none'],
      ['subscriptions:write', 'PATCH', '/v1/subscriptions/sub_none', { name: 'x' }],
      ['subscriptions:write', 'DELETE', '/v1/subscriptions/sub_none'],
      ['subscriptions:write', 'POST', '/v1/subscriptions/sub_none/rotate-secret', {}],
      ['subscriptions:write', 'POST', '/v1/subscriptions/sub_none/test', {}],
      ['subscriptions:write', 'POST', '/v1/subscriptions/sub_none/recover', { since: '2020-01-01T00:00:00Z' }],
    ];
    for (const scope of ALL_SCOPES) {
      const call = as(open.stack, (await createKey(open.stack, 'scoped', [scope])).key);
      for (const [needed, method, route, body] of routes) {
        const { status } = await call(method, route, body);
        const expected = needed === scope ? 'allowed' : 'forbidden';
        expect({ scope, route: `${method} ${route}`, got: status === 403 ? 'forbidden' : 'allowed' }).toEqual({
          scope,
          route: `${method} ${route}`,
          got: expected,
        });
        expect(status).toBeLessThan(500);
      }
    }
  });
});

describe('secrets', () => {
  test('a dump of subscriptions and api_keys shows no secret or key in clear; answers and audits hide them', async () => {
    const key = await createKey(open.stack, 'default', ALL_SCOPES);
    const sub = await api.subscribe(open.stack, open.receiver, '/secret', ['secret.test'], {
      headers: { Authorization: 'Bearer receiver-password-123', 'X-Team': 'blue' },
    });
    const rotated = (await open.stack.request('POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {})).body.secret;
    const { id } = await api.send(open.stack, { type: 'secret.test', data: {} });
    await api.finalEvent(open.stack, id);

    const [received] = open.receiver.received('/secret');
    expect(received.headers.authorization).toBe('Bearer receiver-password-123');
    expect(api.signedWith(sub.secret, received) && api.signedWith(rotated, received)).toBe(true);

    const dump = JSON.stringify([
      await open.stack.store.subscriptions.find().toArray(),
      await open.stack.store.apiKeys.find().toArray(),
      await open.stack.store.attempts.find().toArray(),
    ]);
    for (const secret of [
      sub.secret,
      sub.secret.slice(6),
      rotated,
      rotated.slice(6),
      'receiver-password-123',
      key.key,
      key.key.slice(key.prefix.length),
    ]) {
      expect(dump).not.toContain(secret);
    }
    const view = (await open.stack.request('GET', `/v1/subscriptions/${sub.id}`)).body;
    expect(view.headers).toEqual({ Authorization: '[redacted]', 'X-Team': 'blue' });
    expect(view.secret).toBeUndefined();
    const [attempt] = (await open.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
    expect(attempt.request.headers.Authorization).toBe('[redacted]');
    expect(attempt.request.headers['webhook-signature']).toMatch(/^v1,/);
  });

  test('a signing secret stored in the clear is sealed when a worker starts, and signs as before', async () => {
    const plain = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const id = newSubscriptionId();
    const now = new Date();
    await insertSubscription(open.stack.store, {
      _id: id,
      tenant: 'default',
      eventTypes: ['secret.plain'],
      channel: 'webhook',
      url: `${open.receiver.url}/plain`,
      secrets: [{ value: plain }],
      timeoutMs: 5000,
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    await open.stack.worker.kill('SIGTERM');
    open.stack.worker = await WorkerProcess.start(open.stack.workerEnv);
    const stored = await open.stack.store.subscriptions.findOne({ _id: id });
    expect(stored!.secrets).toHaveLength(1);
    expect(stored!.secrets[0].value).toMatch(/^v1:/);
    expect(JSON.stringify(stored)).not.toContain(plain.slice(6));

    const event = await api.send(open.stack, { type: 'secret.plain', data: {} });
    expect((await api.finalEvent(open.stack, event.id)).status).toBe('delivered');
    expect(api.signedWith(plain, open.receiver.received('/plain')[0])).toBe(true);
  });
});

describe('outbound target safety', () => {
  const hostile = [
    'http://127.0.0.1/',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://api.localhost/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://0x7f.0.0.1/',
    'http://0/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::127.0.0.1]/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.169.254./',
    'http://0251.0376.0251.0376/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://metadata.google.internal/',
    'http://user@127.0.0.1/',
    'http://public.example@10.0.0.1/',
  ];

  test(`${hostile.length} hostile target spellings are refused when the subscription is saved`, async () => {
    for (const url of hostile) {
      const res = await guarded.stack.request('POST', '/v1/subscriptions', { channel: 'webhook', url, eventTypes: ['x.y'] });
      expect({ url, status: res.status, path: res.body.errors?.[0]?.path }).toEqual({ url, status: 400, path: 'url' });
      const patch = await guarded.stack.request('PATCH', '/v1/subscriptions/sub_none', { url });
      expect(patch.status).toBe(400);
    }
    expect(await guarded.stack.store.subscriptions.countDocuments()).toBe(0);
  });

  test('with the guard on, targets saved before are refused when delivering: by name, by address, and by resolved address', async () => {
    // Saved while the guard was off (written straight into the store): only the worker's checks stand.
    // This machine's own name resolves to one of its addresses (loopback or private here): the
    // worker's DNS hook judges the address it would dial, and refuses it before connecting.
    const port = new URL(guarded.receiver.url).port;
    const box = guarded.stack.appDeps.secretBox;
    const now = new Date();
    const cases = [
      ['name', 'localhost', /^target refused: host "localhost" is loopback$/],
      ['address', '127.0.0.1', /^target refused: address 127\.0\.0\.1 is in a refused range \(loopback\)$/],
      ['resolved', os.hostname(), /^target .+ refused: address .+ is in a refused range \((loopback|private|linkLocal|uniqueLocal)\)$/],
    ] as const;
    for (const [kind, host] of cases) {
      // Through the store module, which tells workers' subscription caches about the change.
      await insertSubscription(guarded.stack.store, {
        _id: newSubscriptionId(),
        tenant: 'default',
        eventTypes: [`guard.${kind}`],
        channel: 'webhook',
        url: `http://${host}:${port}/${kind}`,
        secrets: [{ value: box.seal(`whsec_${Buffer.alloc(32, 1).toString('base64')}`) }],
        retry: { maxAttempts: 1 },
        timeoutMs: 5000,
        active: true,
        createdAt: now,
        updatedAt: now,
      });
    }
    for (const [kind, , error] of cases) {
      const { id } = await api.send(guarded.stack, { type: `guard.${kind}`, data: {} });
      const view = await api.finalEvent(guarded.stack, id);
      expect(view.deliveries[0]).toMatchObject({ status: 'failed', lastResponseStatus: null });
      expect(view.deliveries[0].error).toMatch(error);
      const [attempt] = (await guarded.stack.request('GET', `/v1/events/${id}/attempts`)).body.data;
      expect(attempt).toMatchObject({ response: null, error: view.deliveries[0].error });
    }
    expect(guarded.receiver.requests).toHaveLength(0);
  });

  test('the same loopback receiver is reachable with the guard off', async () => {
    await api.subscribe(open.stack, open.receiver, '/reachable', ['guard.off']);
    const { id } = await api.send(open.stack, { type: 'guard.off', data: {} });
    expect((await api.finalEvent(open.stack, id)).status).toBe('delivered');
    expect(open.receiver.received('/reachable')).toHaveLength(1);
  });
});

describe('limits', () => {
  test('ingestion beyond the per-key rate answers 429 with Retry-After, and accepts nothing of that request', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a fresh one-second window, whatever came before
    const events = Array.from({ length: 20 }, (_, i) => ({ id: `rate-${i}`, type: 'rate.test', data: {} }));
    expect((await guarded.stack.request('POST', '/v1/events', { events })).status).toBe(202);
    const over = await guarded.stack.request('POST', '/v1/events', { id: 'rate-over', type: 'rate.test', data: {} });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(over.headers.get('content-type')).toContain('application/problem+json');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await guarded.stack.request('GET', '/v1/events/rate-over')).status).toBe(404);
    expect((await guarded.stack.request('POST', '/v1/events', { id: 'rate-over', type: 'rate.test', data: {} })).status).toBe(202);
  });

  test('a tenant may hold at most HERALD_MAX_SUBSCRIPTIONS subscriptions', async () => {
    const create = () =>
      guarded.stack.request('POST', '/v1/subscriptions', {
        channel: 'webhook',
        url: 'https://hooks.example.com/h',
        eventTypes: ['cap.test'],
      });
    const existing = await guarded.stack.store.subscriptions.countDocuments({ tenant: 'default' });
    for (let i = existing; i < 3; i++) expect((await create()).status).toBe(201);
    const fourth = await create();
    expect(fourth.status).toBe(409);
    expect(fourth.body.detail).toContain('at most 3');
  });

  test('bodies over 256 KiB answer 413 and custom headers are bounded', async () => {
    const big = await open.stack.request('POST', '/v1/events', { type: 'big.test', data: { pad: 'x'.repeat(300 * 1024) } });
    expect(big.status).toBe(413);
    const headers = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']));
    const many = await open.stack.request('POST', '/v1/subscriptions', {
      channel: 'webhook',
      url: `${open.receiver.url}/h`,
      eventTypes: ['x.y'],
      headers,
    });
    expect(many.status).toBe(400);
  });
});
