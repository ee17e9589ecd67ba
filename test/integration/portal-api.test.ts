import * as api from '../harness/api';
import { eventually, sharedServers, useStack } from '../harness/stack';

/** The routes the portal reads besides the contract's: who am I, health and the overview. */

const env = useStack();

async function newKey(tenant: string, scopes: string[]) {
  const res = await env.stack.request('POST', '/v1/api-keys', { name: `portal ${scopes.join(' ')}`, tenant, scopes });
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string };
}
const as = (key: string) => ({ authorization: `Bearer ${key}` });

test('GET /v1/me tells a key its tenant, scopes and where the Temporal Web UI is', async () => {
  const admin = await env.stack.request('GET', '/v1/me');
  expect(admin.status).toBe(200);
  expect(admin.body).toEqual({
    keyId: 'admin',
    tenant: 'default',
    scopes: ['events:write', 'events:read', 'subscriptions:write', 'subscriptions:read', 'events:purge'],
    admin: true,
    temporal: { uiUrl: sharedServers().temporalUiUrl, namespace: 'default' },
  });

  const reader = await newKey('acme', ['events:read']);
  const me = await env.stack.request('GET', '/v1/me', undefined, as(reader.key));
  expect(me.body).toMatchObject({ keyId: reader.id, tenant: 'acme', scopes: ['events:read'], admin: false });

  expect((await env.stack.request('GET', '/v1/me', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
});

test('a key with only events:read may read but every write answers 403', async () => {
  const reader = await newKey('default', ['events:read']);
  const sub = await api.subscribe(env.stack, env.receiver, '/readonly', ['readonly.*']);
  const { id } = await api.send(env.stack, { type: 'readonly.sent', data: {} });
  await api.finalEvent(env.stack, id);

  expect((await env.stack.request('GET', `/v1/events/${id}`, undefined, as(reader.key))).status).toBe(200);
  expect((await env.stack.request('GET', '/v1/stats/overview', undefined, as(reader.key))).status).toBe(200);
  const writes: [string, string, unknown][] = [
    ['POST', '/v1/events', { type: 'readonly.sent', data: {} }],
    ['POST', `/v1/events/${id}/retry`, {}],
    ['POST', `/v1/events/${id}/cancel`, {}],
    ['POST', `/v1/events/${id}/replay`, {}],
    ['POST', '/v1/subscriptions', { channel: 'webhook', url: `${env.receiver.url}/x`, eventTypes: ['*'] }],
    ['PATCH', `/v1/subscriptions/${sub.id}`, { active: false }],
    ['POST', `/v1/subscriptions/${sub.id}/test`, {}],
    ['POST', '/v1/api-keys', { name: 'x', tenant: 'default', scopes: ['events:read'] }],
  ];
  for (const [method, route, body] of writes) {
    expect([method, route, (await env.stack.request(method, route, body, as(reader.key))).status]).toEqual([method, route, 403]);
  }
});

test('subscription health counts the last 24 hours, and names the last error and why it was disabled', async () => {
  env.receiver.on('/health-bad', () => ({ status: 500, body: 'boom' }));
  env.receiver.on('/health-gone', () => ({ status: 410 }));
  const ok = await api.subscribe(env.stack, env.receiver, '/health-ok', ['health.*'], { name: 'ok' });
  const bad = await api.subscribe(env.stack, env.receiver, '/health-bad', ['health.*'], { name: 'bad', retry: { maxAttempts: 1 } });
  const gone = await api.subscribe(env.stack, env.receiver, '/health-gone', ['health.*'], { name: 'gone' });
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await api.send(env.stack, { type: 'health.checked', data: { i } }));
  for (const { id } of sent) await api.finalEvent(env.stack, id);
  // A failure from two days ago lies outside the window.
  await env.stack.store.deliveries.insertOne({
    _id: `old|${bad.id}`,
    tenant: 'default',
    eventId: 'old',
    workflowId: 'old',
    subscriptionId: bad.id,
    channel: 'webhook',
    messageId: 'msg_old',
    status: 'failed',
    attempts: 1,
    lastAttemptAt: new Date(Date.now() - 48 * 3600_000),
    lastResponseStatus: 500,
    nextAttemptAt: null,
    error: 'old',
    createdAt: new Date(Date.now() - 48 * 3600_000),
    updatedAt: new Date(Date.now() - 48 * 3600_000),
  });

  const health = async (id: string) => (await env.stack.request('GET', `/v1/subscriptions/${id}/health`)).body;
  expect(await health(ok.id)).toMatchObject({
    deliveries: { succeeded: 3, failed: 0, retrying: 0, pending: 0, cancelled: 0 },
    successRate: 1,
    lastError: null,
    active: true,
    disabledReason: null,
  });
  const badHealth = await health(bad.id);
  expect(badHealth).toMatchObject({ deliveries: { succeeded: 0, failed: 3 }, successRate: 0, active: true });
  expect(badHealth.lastError).toMatchObject({ responseStatus: 500, status: 'failed' });
  expect(sent.map((s) => s.id)).toContain(badHealth.lastError.eventId);
  expect(badHealth.failingSince).not.toBeNull();
  const goneHealth = await health(gone.id);
  expect(goneHealth).toMatchObject({ active: false, lastError: { status: 'failed' } });
  expect(goneHealth.disabledReason).toMatch(/410/);

  const overview = (await env.stack.request('GET', '/v1/stats/overview')).body;
  expect(overview.hours).toHaveLength(24);
  const current = overview.hours[23];
  expect(Date.parse(current.start)).toBeLessThanOrEqual(Date.now());
  expect(Date.now() - Date.parse(current.start)).toBeLessThan(3600_000);
  const total = (key: 'succeeded' | 'failed') => overview.hours.reduce((n: number, h: any) => n + h.deliveries[key], 0);
  // Ignores the 48-hour-old delivery; counts those of the other tests of this file too.
  expect(overview.hours.reduce((n: number, h: any) => n + h.events, 0)).toBeGreaterThanOrEqual(sent.length);
  // gone: the 410 fails its delivery and disables it; deliveries matched before that fail too.
  expect(goneHealth.deliveries.failed).toBeGreaterThanOrEqual(1);
  expect(total('failed')).toBe(3 + goneHealth.deliveries.failed);
  expect(total('succeeded')).toBeGreaterThanOrEqual(3);
  expect(overview.failingSubscriptions).toEqual([
    // Most failures first, ties oldest first: bad failed all three, and so did gone (410, then disabled).
    { subscriptionId: bad.id, name: 'bad', deliveries: expect.objectContaining({ failed: 3 }), successRate: 0, disabledReason: null },
    {
      subscriptionId: gone.id,
      name: 'gone',
      deliveries: goneHealth.deliveries,
      successRate: 0,
      disabledReason: expect.stringMatching(/410/),
    },
  ]);

  // Another tenant's overview counts only its own events: the audit of its key's creation.
  const other = await newKey('elsewhere', ['events:read', 'subscriptions:read']);
  const theirEvents = await eventually(
    async () => {
      const list = (await env.stack.request('GET', '/v1/events', undefined, as(other.key))).body.data;
      return list.length > 0 && list;
    },
    30_000,
    'the key audit event to be recorded',
  );
  expect(theirEvents.map((e: any) => e.type)).toEqual(['herald.api_key.created']);
  const theirs = (await env.stack.request('GET', '/v1/stats/overview', undefined, as(other.key))).body;
  expect(theirs.hours.reduce((n: number, h: any) => n + h.events, 0)).toBe(1);
  expect(theirs.hours.every((h: any) => Object.values(h.deliveries).every((n) => n === 0))).toBe(true);
  expect(theirs.failingSubscriptions).toEqual([]);
  expect((await env.stack.request('GET', `/v1/subscriptions/${bad.id}/health`, undefined, as(other.key))).status).toBe(404);
});

test('/portal/ serves the built page and its bundled assets without a key, under a strict CSP', async () => {
  const page = await fetch(`${env.stack.url}/portal/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  const html = await page.text();
  const scripts = [...html.matchAll(/(?:src|href)="(\/portal\/assets\/[^"]+)"/g)].map((m) => m[1]);
  expect(scripts.some((s) => s.endsWith('.js'))).toBe(true);
  expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
  for (const asset of scripts) {
    const res = await fetch(`${env.stack.url}${asset}`);
    expect([asset, res.status]).toEqual([asset, 200]);
    expect(res.headers.get('cache-control')).toContain('immutable');
  }
  const missing = await fetch(`${env.stack.url}/portal/assets/missing.js`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toMatchObject({ title: 'Not found' });
});
