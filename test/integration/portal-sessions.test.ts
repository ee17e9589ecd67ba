import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { HeraldClient, HeraldProblemError } from '../../src/client';
import * as api from '../harness/api';
import { artifactsDir, useBrowserStack } from '../harness/browser';
import { runCli } from '../harness/cli';
import { eventually } from '../harness/stack';

/**
 * Portal sessions and the Ingestion page in Debian's headless Chromium against the real stack:
 * a one-time link signs a visitor in to some subscriptions and nothing else of the tenant, the
 * page's own session refused whatever a crafted request asks beyond them; the Ingestion page
 * shows accepted and refused requests. Screenshots land in test-artifacts/portal-sessions/.
 */

const ARTIFACTS = artifactsDir('portal-sessions');
/** Long enough for a poll or two of the page (every 2-10 s) on a busy machine. */
const SEEN_MS = 30_000;

const env = useBrowserStack();

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

async function portalLink(body: Record<string, unknown>): Promise<{ url: string; expiresAt: string }> {
  const res = await env.stack.request('POST', '/v1/portal-sessions', body);
  expect(res.status).toBe(201);
  expect(res.body.url).toMatch(new RegExp(`^${env.stack.url}/portal/s/hpl_`));
  return res.body;
}

/** Opens the link in a fresh browser context (a new visitor); answers the page and the link's own response. */
async function visit(browser: Browser, url: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto(url);
  return { context, page, response };
}

/** A request the page's script could make: same origin, with the session's cookie and header. */
function crafted(page: Page, method: string, route: string, body?: unknown, header = true): Promise<number> {
  return page.evaluate(
    async ([m, r, b, h]) => {
      const res = await fetch(r, {
        method: m,
        headers: { ...(h ? { 'x-herald-portal': 'session' } : {}), 'content-type': 'application/json' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      return res.status;
    },
    [method, route, body, header] as const,
  );
}

test('a portal link signs in once to its subscriptions, where the visitor tests, retries and edits, and nothing else is reachable', async () => {
  let failing = true;
  env.receiver.on('/mine', () => (failing ? { status: 500, body: 'down' } : { status: 200, body: 'ok' }));
  env.receiver.on('/theirs', () => ({ status: 200, body: 'ok' }));
  const filter = { 'data.n': { $lt: 10 } };
  const mine = await api.subscribe(env.stack, env.receiver, '/mine', ['order.*'], {
    name: 'Customer endpoint',
    retry: { maxAttempts: 1 },
    filter,
  });
  const theirs = await api.subscribe(env.stack, env.receiver, '/theirs', ['invoice.*'], { name: 'Other endpoint' });
  const order = await api.send(env.stack, { type: 'order.created', data: { n: 1 } });
  const invoice = await api.send(env.stack, { type: 'invoice.paid', data: { n: 2 } });
  await api.finalEvent(env.stack, order.id);
  await api.finalEvent(env.stack, invoice.id);
  failing = false;
  expect((await env.stack.request('PATCH', '/v1/settings', { portalFrameAncestors: ['https://app.example.com'] })).status).toBe(200);

  const { key: writer, id: writerId } = await api.createKey(env.stack, 'default', ['subscriptions:write']);
  const reader = (await api.createKey(env.stack, 'default', ['subscriptions:read'])).key;
  const ask = { subscriptionIds: [mine.id], expiresIn: 600 };
  expect((await env.stack.request('POST', '/v1/portal-sessions', ask, { authorization: `Bearer ${reader}` })).status).toBe(403);
  const created = await env.stack.request('POST', '/v1/portal-sessions', ask, { authorization: `Bearer ${writer}` });
  expect(created.status).toBe(201);
  const { url } = created.body as { url: string };

  const { context, page, response } = await visit(env.browser, url);
  // Redirected to the clean URL: the token is not in the address bar (nor in history or Referer).
  expect(new URL(page.url()).pathname).toBe('/portal/');
  expect(page.url()).not.toContain('hpl_');
  expect(response!.headers()['content-security-policy']).toContain('frame-ancestors https://app.example.com');
  const [cookie] = (await context.cookies()).filter((c) => c.name === 'herald_portal');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });
  expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).not.toContain(
    'herald_portal',
  );

  // Its subscription, and no tenant-wide page.
  await page.getByRole('link', { name: 'Customer endpoint' }).waitFor({ timeout: SEEN_MS });
  expect(await page.getByText('Other endpoint').count()).toBe(0);
  const nav = page.getByRole('navigation', { name: 'Pages' });
  expect(await nav.getByRole('link').allTextContents()).toEqual(['Subscriptions']);
  expect(await page.getByRole('link', { name: 'New subscription' }).count()).toBe(0);
  await shot(page, '01-session-subscriptions');

  // Test, then retry the failed delivery from the event the health line links to.
  await page.getByRole('link', { name: 'Customer endpoint' }).click();
  await page.getByRole('button', { name: 'Send test' }).click();
  await page.getByText(/HTTP 200 in \d+ ms/).waitFor({ timeout: SEEN_MS });
  expect(await page.getByRole('button', { name: 'Delete…' }).count()).toBe(0);
  await page.getByRole('link', { name: order.id }).click();
  const delivery = page.getByRole('region', { name: 'Delivery to Customer endpoint' });
  await delivery.getByRole('button', { name: 'Retry', exact: true }).click();
  await delivery.getByText('succeeded', { exact: true }).waitFor({ timeout: SEEN_MS });
  expect(await page.getByRole('button', { name: 'Replay' }).count()).toBe(0);
  expect(await page.getByText(/in the Temporal Web UI/).count()).toBe(0);
  await shot(page, '02-session-event-retried');

  // Edits within its limits pass; everything else the page's own session asks answers 403/404.
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${mine.id}`, { name: 'Renamed by the customer' })).toBe(200);
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${mine.id}`, { eventTypes: ['order.created'] })).toBe(200);
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${mine.id}`, { eventTypes: ['*'] })).toBe(403);
  // The tenant's filter stays: removed or replaced, it would let in events meant for others.
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${mine.id}`, { filter: null })).toBe(403);
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${mine.id}`, { filter: { 'data.n': { $lt: 1000 } } })).toBe(403);
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${mine.id}`, { filter, active: true })).toBe(200);
  expect(await crafted(page, 'GET', `/v1/subscriptions/${theirs.id}`)).toBe(404);
  expect(await crafted(page, 'GET', `/v1/subscriptions/${theirs.id}/health`)).toBe(404);
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${theirs.id}`, { active: false })).toBe(404);
  expect(await crafted(page, 'POST', `/v1/subscriptions/${theirs.id}/test`, {})).toBe(404);
  expect(await crafted(page, 'GET', `/v1/events/${invoice.id}`)).toBe(404);
  expect(await crafted(page, 'GET', `/v1/events/${invoice.id}/attempts`)).toBe(404);
  expect(await crafted(page, 'POST', `/v1/events/${invoice.id}/retry`, { subscriptionId: theirs.id })).toBe(404);
  expect(await crafted(page, 'POST', `/v1/events/${order.id}/retry`, {})).toBe(403);
  expect(await crafted(page, 'POST', `/v1/events/${order.id}/replay`, {})).toBe(403);
  expect(await crafted(page, 'DELETE', `/v1/subscriptions/${mine.id}`)).toBe(403);
  expect(await crafted(page, 'POST', '/v1/subscriptions', { channel: 'webhook', url: 'https://x.example', eventTypes: ['*'] })).toBe(403);
  for (const route of ['/v1/events', '/v1/api-keys', '/v1/ingest-log', '/v1/stats/overview', '/v1/event-types', '/v1/settings'])
    expect([route, await crafted(page, 'GET', route)]).toEqual([route, 403]);
  expect(await crafted(page, 'POST', '/v1/events', { type: 'order.created', data: { from: 'the session' } })).toBe(403);
  // Nor does its refusal reach the tenant's ingestion log: a refusal of the admin's sent after it
  // is there, and the session's is not.
  expect(
    (await env.stack.request('POST', '/v1/events', { type: 'order.created', data: { from: 'the admin' }, id: 'Bad id!' })).status,
  ).toBe(400);
  const log = await eventually(
    async () => {
      const entries = (await env.stack.request('GET', '/v1/ingest-log?limit=200')).body.data as { body: string }[];
      return entries.some((e) => e.body.includes('the admin')) && entries;
    },
    SEEN_MS,
    "the admin's refusal logged",
  );
  expect(log.filter((e) => e.body.includes('the session'))).toEqual([]);
  expect(await crafted(page, 'POST', '/v1/portal-sessions', { eventTypes: ['*'], expiresIn: 60 })).toBe(403);
  // Without the portal's header (what a form on another site would send) the cookie is not enough.
  expect(await crafted(page, 'GET', `/v1/subscriptions/${mine.id}`, undefined, false)).toBe(403);
  const listed = await page.evaluate(
    async () =>
      (await (await fetch('/v1/subscriptions', { headers: { 'x-herald-portal': 'session' } })).json()) as { data: { id: string }[] },
  );
  expect(listed.data.map((s) => s.id)).toEqual([mine.id]);
  const seen = await page.evaluate(
    async (id) =>
      (await (await fetch(`/v1/events/${id}`, { headers: { 'x-herald-portal': 'session' } })).json()) as {
        deliveries: { subscriptionId: string }[];
      },
    order.id,
  );
  expect(seen.deliveries.map((d) => d.subscriptionId)).toEqual([mine.id]);
  expect((await env.stack.request('GET', `/v1/subscriptions/${mine.id}`)).body).toMatchObject({
    name: 'Renamed by the customer',
    eventTypes: ['order.created'],
  });

  // Both the link's making and its use are in the tenant's audit, as Herald's own events.
  const announced = await eventually(
    async () => {
      const res = await env.stack.request('GET', '/v1/events?type=herald.portal_session.*&limit=200');
      const mineOnly = res.body.data.filter((e: any) => e.data.portalSession.subscriptionIds?.[0] === mine.id);
      return mineOnly.length === 2 && mineOnly;
    },
    SEEN_MS,
    'herald.portal_session.created and .opened',
  );
  expect(announced.map((e: any) => e.type).sort()).toEqual(['herald.portal_session.created', 'herald.portal_session.opened']);
  expect(announced.find((e: any) => e.type === 'herald.portal_session.created').actor).toBe(`key:${writerId}`);

  // Visits racing with one link: exactly one is signed in. A link checker's HEAD before them spends nothing.
  const raced = await portalLink({ subscriptionIds: [mine.id], expiresIn: 600 });
  const checked = await fetch(raced.url, { method: 'HEAD', redirect: 'manual' });
  expect([checked.status, checked.headers.get('set-cookie')]).toEqual([200, null]);
  const visits = await Promise.all(Array.from({ length: 6 }, () => fetch(raced.url, { redirect: 'manual' })));
  expect(visits.map((v) => v.status).sort()).toEqual([303, 410, 410, 410, 410, 410]);
  expect(visits.filter((v) => v.headers.get('set-cookie'))).toHaveLength(1);

  // The link is spent: a second visit is refused with a page that says so.
  const second = await visit(env.browser, url);
  expect(second.response!.status()).toBe(410);
  await second.page.getByRole('heading', { name: 'This portal link was already used' }).waitFor();
  await shot(second.page, '03-link-used-twice');
  await second.context.close();
  await context.close();
});

test("a session may edit an email subscription's templates but not its recipients", async () => {
  const created = await env.stack.request('POST', '/v1/subscriptions', {
    channel: 'email',
    to: ['customer@example.test'],
    eventTypes: ['mail.sent'],
    name: 'Customer mail',
  });
  expect(created.status).toBe(201);
  const { id, to } = created.body as { id: string; to: string[] };
  const { context, page } = await visit(env.browser, (await portalLink({ subscriptionIds: [id], expiresIn: 600 })).url);
  const patch = (body: unknown) => crafted(page, 'PATCH', `/v1/subscriptions/${id}`, body);
  expect(await patch({ to: ['anyone@example.test'] })).toBe(403);
  expect(await patch({ to: [...to, 'anyone@example.test'] })).toBe(403);
  expect(await patch({ to: null })).toBe(403);
  expect(await patch({ to, subject: 'Your {{type}}' })).toBe(200); // the whole form sent back
  const stored = (await env.stack.request('GET', `/v1/subscriptions/${id}`)).body;
  expect(stored).toMatchObject({ to: ['customer@example.test'], subject: 'Your {{type}}' });
  await context.close();
});

test('a read-only link for some event types shows their subscriptions without controls, and a session ends when it expires', async () => {
  env.receiver.on('/ro', () => ({ status: 200, body: 'ok' }));
  const shipping = await api.subscribe(env.stack, env.receiver, '/ro', ['shipment.sent', 'shipment.lost'], { name: 'Shipping hooks' });
  // Made with the CLI, as a tenant's support person would: the URL alone, or JSON.
  const cli = { HERALD_URL: env.stack.url, HERALD_API_KEY: env.stack.adminKey };
  const link = ['portal', 'link', '--event-type', 'shipment.*', '--read-only', '--expires-in', '10m'];
  const printed = await runCli(link, cli);
  expect(printed).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^${env.stack.url}/portal/s/hpl_\\S+\n$`)) });
  const json = await runCli([...link, '--json'], cli);
  expect(json.code).toBe(0);
  const { url, expiresAt } = JSON.parse(json.stdout) as { url: string; expiresAt: string };
  expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
  expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(10 * 60_000);
  const { context, page } = await visit(env.browser, url);
  await page.getByRole('link', { name: 'Shipping hooks' }).click();
  await page.getByRole('heading', { name: 'Shipping hooks' }).waitFor({ timeout: SEEN_MS });
  await page
    .getByText(/read-only/)
    .first()
    .waitFor();
  for (const name of ['Send test', 'Edit', 'Rotate secret', 'Recover', 'Disable'])
    expect([name, await page.getByRole('button', { name }).count()]).toEqual([name, 0]);
  expect(await page.getByRole('link', { name: 'Customer endpoint' }).count()).toBe(0);
  await shot(page, '04-read-only-session');
  expect(await crafted(page, 'PATCH', `/v1/subscriptions/${shipping.id}`, { name: 'x' })).toBe(403);
  expect(await crafted(page, 'POST', `/v1/subscriptions/${shipping.id}/test`, {})).toBe(403);
  expect(await crafted(page, 'POST', `/v1/subscriptions/${shipping.id}/rotate-secret`, {})).toBe(403);
  expect(await crafted(page, 'GET', `/v1/subscriptions/${shipping.id}`)).toBe(200);
  await context.close();

  // A short session: the link is spent while it holds, then the page's requests answer 401 and
  // the page, reloaded, says why (the UI is not awaited in between: on a loaded machine it may
  // take longer than the session lasts).
  const short = await portalLink({ subscriptionIds: [shipping.id], expiresIn: 5 });
  const visitor = await visit(env.browser, short.url);
  expect(new URL(visitor.page.url()).pathname).toBe('/portal/');
  await eventually(
    async () => (await crafted(visitor.page, 'GET', `/v1/subscriptions/${shipping.id}`)) === 401,
    15_000,
    'the session to expire',
  );
  await visitor.page.reload();
  await visitor.page.getByText('The portal session expired').waitFor({ timeout: SEEN_MS });
  await visitor.context.close();

  // A link not opened in time answers 410 too.
  const late = await portalLink({ subscriptionIds: [shipping.id], expiresIn: 1 });
  await eventually(() => Date.now() > Date.parse(late.expiresAt), 5_000, 'the link to expire');
  const res = await fetch(late.url, { redirect: 'manual', headers: { accept: 'application/json' } });
  expect(res.status).toBe(410);
  expect(((await res.json()) as { title: string }).title).toBe('This portal link expired');
});

test('the Ingestion page shows accepted and refused requests, the problem of each refusal, links to events, and filters by status and time', async () => {
  const key = (await api.createKey(env.stack, 'ingesting', ['events:write', 'events:read'])).key;
  const as = { authorization: `Bearer ${key}` };
  const accepted = await env.stack.request('POST', '/v1/events', { type: 'build.finished', data: { ok: true } }, as);
  expect(accepted.status).toBe(202);
  expect((await env.stack.request('POST', '/v1/events', { type: 'Build Finished!', data: {} }, as)).status).toBe(400);

  const page = await env.browser.newPage();
  await page.goto(`${env.stack.url}/portal/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Ingestion' }).click();
  const rows = page.locator('tbody tr');
  await rows.nth(1).waitFor({ timeout: SEEN_MS });
  expect(await rows.count()).toBe(2);
  const refused = rows.filter({ hasText: 'refused' });
  await refused.getByText('Invalid request').waitFor();
  await refused.getByText(/must be dot-separated segments/).waitFor();
  const acceptedRow = rows.filter({ hasText: 'accepted' });
  await acceptedRow.getByRole('link', { name: accepted.body.id }).waitFor();
  await shot(page, '05-ingestion');

  await page.getByLabel('Status').selectOption('400');
  await page.getByRole('button', { name: 'Search' }).click();
  await eventually(
    async () => (await rows.count()) === 1 && (await rows.first().textContent())!.includes('refused'),
    SEEN_MS,
    'only the refusal',
  );
  await page.getByLabel('Status').selectOption('202');
  await page.getByRole('button', { name: 'Search' }).click();
  await eventually(
    async () => (await rows.count()) === 1 && (await rows.first().textContent())!.includes('accepted'),
    SEEN_MS,
    'only the acceptance',
  );
  // A window that starts after both requests holds neither.
  const later = new Date(Date.now() + 3_600_000);
  const local = new Date(later.getTime() - later.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('From').fill(local);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No requests match.').waitFor({ timeout: SEEN_MS });
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.getByRole('link', { name: accepted.body.id }).click();
  await page.getByRole('heading', { name: /build\.finished/ }).waitFor({ timeout: SEEN_MS });
  await page.close();
});

test('a portal session can be framed by the origins the tenant lists, and by no other', async () => {
  const framed = await api.subscribe(env.stack, env.receiver, '/framed', ['order.*'], { name: 'Framed endpoint' });
  // The receiver's origin is the tenant's app: same site as the API (127.0.0.1), another origin (port).
  const app = new URL(env.receiver.url).origin;
  const embed = (link: string) => ({ status: 200, headers: { 'content-type': 'text/html' }, body: `<iframe src="${link}"></iframe>` });

  expect((await env.stack.request('PATCH', '/v1/settings', { portalFrameAncestors: ['https://app.example.com'] })).status).toBe(200);
  const refused = await portalLink({ subscriptionIds: [framed.id], expiresIn: 600 });
  env.receiver.on('/embed-refused', () => embed(refused.url));
  const page = await env.browser.newPage();
  await page.goto(`${env.receiver.url}/embed-refused`);
  // Chromium replaces a frame its frame-ancestors refuse with an error page.
  await eventually(() => page.frames().some((f) => f.url().startsWith('chrome-error:')), SEEN_MS, 'the frame to be refused');

  // Through the client library, as a tenant's backend would set it.
  const herald = new HeraldClient({ url: env.stack.url, apiKey: env.stack.adminKey });
  expect(await herald.settings.update({ portalFrameAncestors: [app] })).toEqual({ portalFrameAncestors: [app] });
  expect(await herald.settings.get()).toEqual({ portalFrameAncestors: [app] });
  const allowed = await herald.portalSessions.create({ subscriptionIds: [framed.id], expiresIn: 600 });
  env.receiver.on('/embed-allowed', () => embed(allowed.url));
  await page.goto(`${env.receiver.url}/embed-allowed`);
  await page.frameLocator('iframe').getByRole('link', { name: 'Framed endpoint' }).waitFor({ timeout: SEEN_MS });
  await shot(page, '06-framed-by-the-tenant-app');
  await expect(herald.settings.update({ portalFrameAncestors: ['https://a.com; script-src *'] })).rejects.toBeInstanceOf(
    HeraldProblemError,
  );
  await expect(herald.portalSessions.create({ subscriptionIds: ['sub_nope'], expiresIn: 60 })).rejects.toMatchObject({
    status: 400,
    errors: [{ path: 'subscriptionIds.0', message: 'no subscription sub_nope' }],
  });
  await page.close();

  // Behind a proxy that ends TLS (operations.md), the link a visitor gets is an https one.
  const proxied = await env.stack.request(
    'POST',
    '/v1/portal-sessions',
    { subscriptionIds: [framed.id], expiresIn: 60 },
    {
      'x-forwarded-proto': 'https',
    },
  );
  expect(proxied.status).toBe(201);
  expect(proxied.body.url).toMatch(new RegExp(`^https://${new URL(env.stack.url).host}/portal/s/hpl_`));
});

test("every route of the OpenAPI document answers a portal session 403, or 404 for what is not the session's", async () => {
  const own = await api.subscribe(env.stack, env.receiver, '/matrix-own', ['matrix.*'], { name: 'Matrix own' });
  const other = await api.subscribe(env.stack, env.receiver, '/matrix-other', ['other.*'], { name: 'Matrix other' });
  const otherEvent = await api.send(env.stack, { type: 'other.happened', data: {}, subject: { type: 'thing', id: '1' } });
  await api.finalEvent(env.stack, otherEvent.id);
  const { url } = await portalLink({ subscriptionIds: [own.id], expiresIn: 600 });
  const link = await fetch(url, { redirect: 'manual' });
  expect(link.status).toBe(303);
  expect(link.headers.get('location')).toBe('/portal/');
  const cookie = /^herald_portal=([^;]+)/.exec(link.headers.get('set-cookie') ?? '')![1];
  const asSession = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${env.stack.url}${route}`, {
      method,
      headers: { cookie: `herald_portal=${cookie}`, 'x-herald-portal': 'session', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.status;
  };

  // The session's own routes, each asked about another subscription or event: 404.
  const own404 = new Set([
    'get /v1/subscriptions/{id}',
    'patch /v1/subscriptions/{id}',
    'get /v1/subscriptions/{id}/health',
    'post /v1/subscriptions/{id}/rotate-secret',
    'post /v1/subscriptions/{id}/test',
    'post /v1/subscriptions/{id}/preview',
    'post /v1/subscriptions/{id}/recover',
    'get /v1/events/{id}',
    'get /v1/events/{id}/attempts',
    'post /v1/events/{id}/cancel',
    'post /v1/events/{id}/retry',
  ]);
  const doc = (await (await fetch(`${env.stack.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const answers: string[] = [];
  for (const [path, item] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/v1/'))) {
    for (const method of Object.keys(item)) {
      const key = `${method} ${path}`;
      if (key === 'get /v1/me' || key === 'get /v1/subscriptions') continue; // the session's own, shown below
      const route = path
        .replace(/^\/v1\/subscriptions\/\{id\}/, `/v1/subscriptions/${other.id}`)
        .replace(/^\/v1\/events\/\{id\}/, `/v1/events/${otherEvent.id}`)
        .replace('/v1/subjects/{type}/{id}', '/v1/subjects/thing/1')
        .replace('{type}', 'other.happened')
        .replace('{id}', 'key_x');
      const body = method === 'get' || method === 'delete' ? undefined : { subscriptionId: other.id, since: new Date(0).toISOString() };
      answers.push(`${key} ${await asSession(method.toUpperCase(), route, body)}`);
    }
  }
  const expected = answers.map((a) => a.replace(/\d+$/, '') + (own404.has(a.replace(/ \d+$/, '')) ? '404' : '403'));
  expect(answers).toEqual(expected);
  expect(answers.length).toBeGreaterThan(30);
  expect(await asSession('GET', '/v1/me')).toBe(200);
  expect(await asSession('GET', `/v1/subscriptions/${own.id}`)).toBe(200);
  // Still the tenant's data for its own keys: the refusals changed nothing.
  expect((await env.stack.request('GET', `/v1/subscriptions/${other.id}`)).body).toMatchObject({ name: 'Matrix other', active: true });
});
