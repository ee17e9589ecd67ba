import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { createApp } from '../../src/api/app';
import { newSubscriptionId } from '../../src/domain/ids';
import * as api from '../harness/api';
import { eventually, useStack, WorkerProcess, type TestStack } from '../harness/stack';
import { insertSubscription } from '../../src/store/subscriptions';
import { markExpiryAnnounced } from '../../src/store/api-keys';

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
    // Twice: from its second request on, the API trusts the key it keeps in memory while the
    // tenant's revocation counter holds, so the revocation must raise it.
    for (let i = 0; i < 2; i++) expect((await call('GET', '/v1/events')).status).toBe(200);

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
    // A repeated DELETE answers as the first did.
    for (let i = 0; i < 2; i++) expect((await open.stack.request('DELETE', `/v1/api-keys/${other.id}`)).status).toBe(204);
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

describe('expiring keys', () => {
  test('a key works until expiresAt, then answers 401 key-expired; herald.api_key.expired is emitted once across requests and API processes', async () => {
    const past = await open.stack.request('POST', '/v1/api-keys', {
      name: 'late',
      tenant: 'default',
      scopes: ['events:read'],
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([{ path: 'expiresAt', message: 'must be in the future' }]);

    const expiresAt = new Date(Date.now() + 4_000).toISOString(); // room for the calls made before it expires, on a busy machine
    const created = await open.stack.request('POST', '/v1/api-keys', { name: 'ci', tenant: 'default', scopes: ['events:read'], expiresAt });
    expect(created.status).toBe(201);
    const { id, key } = created.body;
    expect(created.body.expiresAt).toBe(expiresAt);
    const listed = (await open.stack.request('GET', '/v1/api-keys?limit=200')).body.data.find((k: any) => k.id === id);
    expect(listed).toMatchObject({ expiresAt, revokedAt: null });
    expect((await as(open.stack, key)('GET', '/v1/me')).body).toMatchObject({ keyId: id, expiresAt });

    // A second API process: the same app on a port of its own, sharing only the store and Temporal.
    const second: Server = await new Promise((resolve) => {
      const s = createApp(open.stack.appDeps).listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const urls = [open.stack.url, `http://127.0.0.1:${(second.address() as AddressInfo).port}`];
      // The clock is the condition here: the key's first requests after expiresAt race each other.
      await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 50));
      const answers = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const res = await fetch(`${urls[i % 2]}/v1/events`, { headers: { authorization: `Bearer ${key}` } });
          return { status: res.status, body: (await res.json()) as { type: string; detail: string } };
        }),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(401);
        expect(answer.body.type).toMatch(/\/key-expired$/);
        expect(answer.body.detail).toContain(`expired at ${expiresAt}`);
      }
    } finally {
      second.closeAllConnections();
      second.close();
    }

    const emitted = await eventually(
      async () => {
        const res = await open.stack.request('GET', '/v1/events?type=herald.api_key.expired&limit=200');
        const mine = res.body.data.filter((e: any) => e.subject?.id === id);
        return mine.length > 0 && mine;
      },
      20_000,
      'herald.api_key.expired',
    );
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({
      type: 'herald.api_key.expired',
      occurredAt: expiresAt,
      subject: { type: 'api_key', id },
      data: { apiKey: { id, expiresAt } },
    });
    // Marked once emitted: later requests find the mark with the key and start nothing more.
    const marked = await eventually(
      async () => (await open.stack.store.apiKeys.findOne({ _id: id }))?.expiryAnnouncedAt,
      10_000,
      'the mark',
    );
    expect((await as(open.stack, key)('GET', '/v1/events')).status).toBe(401);
    // A second process's mark, made after its own (refused) emit, leaves the first one.
    await markExpiryAnnounced(open.stack.store, id, new Date(Date.now() + 60_000));
    expect((await open.stack.store.apiKeys.findOne({ _id: id }))?.expiryAnnouncedAt).toEqual(marked);
    const again = await open.stack.request('GET', '/v1/events?type=herald.api_key.expired&limit=200');
    expect(again.body.data.filter((e: any) => e.subject?.id === id)).toHaveLength(1);
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

describe('resource limits', () => {
  // tenant "limits": what each event is, and which limited keys may see it.
  const EVENTS = [
    { id: 'h-deploy', type: 'deploy.started', subject: { type: 'package', id: 'herald' } },
    { id: 'h-step', type: 'deploy.step', subject: { type: 'package', id: 'herald' }, parentId: 'h-deploy' },
    { id: 'h-build', type: 'build.finished', subject: { type: 'package', id: 'herald' }, parentId: 'h-deploy' },
    { id: 'o-deploy', type: 'deploy.started', subject: { type: 'package', id: 'other' } },
    { id: 'g-deploy', type: 'deploy.started', subject: { type: 'origin', id: 'gh' } },
    { id: 'n-deploy', type: 'deploy.started' },
  ];
  const KEYS: { name: string; limits: Record<string, unknown>; sees: string[] }[] = [
    { name: 'one resource', limits: { subjects: [{ type: 'package', id: 'herald' }] }, sees: ['h-deploy', 'h-step', 'h-build'] },
    { name: 'a subject type', limits: { subjects: [{ type: 'package' }] }, sees: ['h-deploy', 'h-step', 'h-build', 'o-deploy'] },
    {
      name: 'two resources',
      limits: {
        subjects: [
          { type: 'package', id: 'herald' },
          { type: 'origin', id: 'gh' },
        ],
      },
      sees: ['h-deploy', 'h-step', 'h-build', 'g-deploy'],
    },
    { name: 'a type pattern', limits: { eventTypes: ['deploy.*'] }, sees: ['h-deploy', 'h-step', 'o-deploy', 'g-deploy', 'n-deploy'] },
    {
      name: 'resource and types',
      limits: { subjects: [{ type: 'package', id: 'herald' }], eventTypes: ['deploy.started', 'deploy.step'] },
      sees: ['h-deploy', 'h-step'],
    },
  ];
  // Within every key of KEYS.
  const INSIDE = { type: 'deploy.started', data: {}, subject: { type: 'package', id: 'herald' } };
  let full: ReturnType<typeof as>;
  let subscriptionId: string;
  const limitedKey = async (limits: Record<string, unknown>, scopes = ALL_SCOPES) => {
    const res = await open.stack.request('POST', '/v1/api-keys', { name: 'limited', tenant: 'limits', scopes, ...limits });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject(limits);
    return { id: res.body.id as string, call: as(open.stack, res.body.key) };
  };

  beforeAll(async () => {
    full = as(open.stack, (await createKey(open.stack, 'limits', [...ALL_SCOPES, 'events:purge'])).key);
    const sub = await full('POST', '/v1/subscriptions', { channel: 'webhook', url: `${open.receiver.url}/limits`, eventTypes: ['*'] });
    subscriptionId = sub.body.id;
    expect((await full('POST', '/v1/events', { events: EVENTS.map((e) => ({ ...e, data: {} })) })).status).toBe(202);
    for (const { id } of EVENTS) {
      await eventually(async () => (await full('GET', `/v1/events/${id}`)).body.status === 'delivered', 20_000, id);
    }
  });

  test('limits × route: an event outside the key is 404 on every route, inside it answers as usual', async () => {
    const routes: [string, (id: string) => string, unknown?][] = [
      ['GET', (id) => `/v1/events/${id}`],
      ['GET', (id) => `/v1/events/${id}/attempts`],
      ['GET', (id) => `/v1/events/${id}/tree`],
      ['POST', (id) => `/v1/events/${id}/cancel`, {}],
      ['POST', (id) => `/v1/events/${id}/retry`, {}],
    ];
    for (const { name, limits, sees } of KEYS) {
      const { call } = await limitedKey(limits);
      for (const event of EVENTS) {
        for (const [method, route, body] of routes) {
          const { status } = await call(method, route(event.id), body);
          const expected = sees.includes(event.id) ? (method === 'GET' ? 200 : 202) : 404;
          expect({ key: name, route: `${method} ${route(event.id)}`, status }).toEqual({
            key: name,
            route: `${method} ${route(event.id)}`,
            status: expected,
          });
        }
        // A replay starts a run: only the key's last visible event is replayed (a different one per key).
        if (!sees.includes(event.id) || event.id === sees[sees.length - 1]) {
          const { status } = await call('POST', `/v1/events/${event.id}/replay`, {});
          expect({ key: name, replay: event.id, status }).toEqual({
            key: name,
            replay: event.id,
            status: sees.includes(event.id) ? 202 : 404,
          });
        }
      }
      // The deliveries and attempts of a visible event are there in full.
      const [seen] = sees;
      expect((await call('GET', `/v1/events/${seen}`)).body.deliveries).toEqual([
        expect.objectContaining({ subscriptionId, status: 'succeeded' }),
      ]);
      expect((await call('GET', `/v1/events/${seen}/attempts`)).body.data).toHaveLength(1);
    }
  });

  test('lists, pages, searches, exports, subject histories and trees hold exactly the events within the limits', async () => {
    for (const { name, limits, sees } of KEYS) {
      const { call } = await limitedKey(limits);
      const expected = [...sees].sort();
      const ids = (res: { body: any }) => res.body.data.map((e: any) => e.id as string).sort();
      expect({ key: name, list: ids(await call('GET', '/v1/events?limit=200')) }).toEqual({ key: name, list: expected });
      // One per page: the cursor and the limits together.
      const paged: string[] = [];
      for (let cursor: string | null = null, n = 0; n === 0 || cursor; n++) {
        const page: { body: any } = await call('GET', `/v1/events?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...ids(page));
        cursor = page.body.nextCursor;
      }
      expect({ key: name, paged: paged.sort() }).toEqual({ key: name, paged: expected });
      expect(ids(await call('GET', '/v1/events?q=deploy&limit=200'))).toEqual(
        expected.filter((id) => EVENTS.find((e) => e.id === id)!.type.startsWith('deploy')),
      );
      expect(ids(await call('GET', '/v1/events?type=build.finished'))).toEqual(expected.filter((id) => id === 'h-build'));
      const exported = (await call('GET', '/v1/events/export?include=deliveries,attempts')).body as string;
      const lines = exported
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect({ key: name, exported: lines.map((l) => l.id).sort() }).toEqual({ key: name, exported: expected });
      for (const line of lines) {
        expect(line.deliveries.length).toBeGreaterThan(0); // more than one for an event replayed above
        for (const delivery of line.deliveries) expect(delivery.subscriptionId).toBe(subscriptionId);
      }
      const history = ids(await call('GET', '/v1/subjects/package/herald/events'));
      expect({ key: name, history }).toEqual({ key: name, history: expected.filter((id) => id.startsWith('h-')) });
      expect((await call('GET', '/v1/subjects/package/other/events')).body.data.length).toBe(sees.includes('o-deploy') ? 1 : 0);
      if (sees.includes('h-deploy')) {
        const tree = (await call('GET', '/v1/events/h-deploy/tree')).body;
        const children = tree.descendants.map((d: any) => d.event.id).sort();
        expect({ key: name, children }).toEqual({ key: name, children: expected.filter((id) => id === 'h-step' || id === 'h-build') });
      }
    }
    // The child's tree goes up to the parent only when the parent is within the limits.
    const { call } = await limitedKey({ subjects: [{ type: 'package', id: 'herald' }], eventTypes: ['build.*'] });
    expect((await call('GET', '/v1/events/h-build/tree')).body.ancestors).toEqual([]);
    expect((await full('GET', '/v1/events/h-build/tree')).body.ancestors.map((a: any) => a.id)).toEqual(['h-deploy']);
  });

  test('ingestion outside the limits is 403; a batch with any outside is refused whole, naming them', async () => {
    for (const { name, limits } of KEYS) {
      const { id: keyId, call } = await limitedKey(limits);
      const ok = await call('POST', '/v1/events', { ...INSIDE, id: `in-${keyId}` });
      expect({ key: name, status: ok.status }).toEqual({ key: name, status: 202 });
      const outside = { id: `out-${keyId}`, type: 'other.thing', data: {}, subject: { type: 'elsewhere', id: 'x' } };
      const single = await call('POST', '/v1/events', outside);
      expect({ key: name, status: single.status }).toEqual({ key: name, status: 403 });
      expect(single.body.errors).toEqual([{ path: limits.eventTypes ? 'type' : 'subject', message: expect.any(String) }]);
      const batch = await call('POST', '/v1/events', {
        events: [{ ...INSIDE, id: `in2-${keyId}` }, outside, { ...outside, id: `out2-${keyId}` }],
      });
      expect(batch.status).toBe(403);
      const field = limits.eventTypes ? 'type' : 'subject';
      expect(batch.body.errors.map((e: any) => e.path)).toEqual([`events.1.${field}`, `events.2.${field}`]);
      for (const id of [`out-${keyId}`, `in2-${keyId}`, `out2-${keyId}`]) expect((await full('GET', `/v1/events/${id}`)).status).toBe(404);
      // Its requests (the accepted one and the two refusals, newest first) are in the ingestion log it reads, and no other key's.
      const log = await eventually(
        async () => {
          const data = (await call('GET', '/v1/ingest-log')).body.data;
          return data.length >= 3 && data;
        },
        10_000,
        'the ingestion log',
      );
      expect(log.map((e: any) => [e.keyId, e.status])).toEqual([
        [keyId, 403],
        [keyId, 403],
        [keyId, 202],
      ]);
    }
  });

  test('a limited key reads subscriptions but changes none, makes no portal session, and sees no tenant-wide aggregate or setting change', async () => {
    for (const { name, limits } of KEYS) {
      const { call } = await limitedKey(limits);
      const routes: [string, string, number, unknown?][] = [
        ['GET', '/v1/subscriptions', 200],
        ['GET', `/v1/subscriptions/${subscriptionId}`, 200],
        ['POST', `/v1/subscriptions/${subscriptionId}/preview`, 200, { event: { type: 'deploy.started', data: {} } }],
        ['POST', '/v1/subscriptions', 403, { channel: 'webhook', url: `${open.receiver.url}/x`, eventTypes: ['*'] }],
        ['PATCH', `/v1/subscriptions/${subscriptionId}`, 403, { name: 'mine now' }],
        ['DELETE', `/v1/subscriptions/${subscriptionId}`, 403],
        ['POST', `/v1/subscriptions/${subscriptionId}/rotate-secret`, 403, {}],
        ['POST', `/v1/subscriptions/${subscriptionId}/test`, 403, {}],
        ['POST', `/v1/subscriptions/${subscriptionId}/recover`, 403, { since: '2020-01-01T00:00:00Z' }],
        ['GET', `/v1/subscriptions/${subscriptionId}/health`, 403],
        ['GET', '/v1/stats/overview', 403],
        ['POST', '/v1/portal-sessions', 403, { subscriptionIds: [subscriptionId], expiresIn: 60 }],
        ['GET', '/v1/settings', 200],
        ['PATCH', '/v1/settings', 403, { portalFrameAncestors: [] }],
        ['GET', '/v1/event-types', 200],
        ['PUT', '/v1/event-types/deploy.started', limits.subjects ? 403 : 201, { description: 'a deploy began' }],
      ];
      for (const [method, route, expected, body] of routes) {
        const { status } = await call(method, route, body);
        expect({ key: name, route: `${method} ${route}`, status }).toEqual({ key: name, route: `${method} ${route}`, status: expected });
      }
      await full('DELETE', '/v1/event-types/deploy.started');
    }
    expect((await full('GET', `/v1/subscriptions/${subscriptionId}`)).body.name).toBeUndefined();
  });

  test('a limited purge removes only events within the limits', async () => {
    const { call } = await limitedKey({ subjects: [{ type: 'package', id: 'other' }] }, ['events:purge', 'events:read']);
    expect((await call('DELETE', '/v1/events/h-deploy')).status).toBe(404);
    const purged = await call('POST', '/v1/events/purge', { since: '2000-01-01T00:00:00Z', until: '2100-01-01T00:00:00Z' });
    expect(purged.body.purged).toBe(1);
    expect((await full('GET', '/v1/events/o-deploy')).status).toBe(404);
    for (const id of ['h-deploy', 'g-deploy', 'n-deploy']) expect((await full('GET', `/v1/events/${id}`)).status).toBe(200);
  });
});

describe('secrets', () => {
  test('a dump of subscriptions and api_keys shows no secret or key in clear; answers and audits hide them', async () => {
    const key = await createKey(open.stack, 'default', ALL_SCOPES);
    const sub = await api.subscribe(open.stack, open.receiver, '/secret', ['secret.test'], {
      headers: { Authorization: 'Bearer receiver-password-123', 'X-Team': 'blue' },
      timeoutMs: 5000, // its first attempt is kept inside the delivery it stores
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
      await open.stack.store.deliveries.find().toArray(),
    ]);
    const [delivery] = await open.stack.store.deliveries.find({ eventId: id }).toArray();
    expect(delivery.firstAttempt?.request.headers).toMatchObject({ Authorization: '[redacted]', 'X-Team': 'blue' });
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
