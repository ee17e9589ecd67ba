import path from 'node:path';
import type { Page } from 'playwright-core';
import * as api from '../harness/api';
import { artifactsDir, useBrowserStack } from '../harness/browser';
import { eventually, sharedServers } from '../harness/stack';

/**
 * The portal end to end, in Debian's headless Chromium against the real stack: what a person
 * does with it, step by step. Screenshots of every page land in test-artifacts/portal/.
 */

const ARTIFACTS = artifactsDir('portal');
const LAPTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
/** Long enough for a poll or two of the page (every 2-3 s) on a busy machine. */
const SEEN_MS = 30_000;

const env = useBrowserStack();

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${env.stack.url}/portal/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const deliveryTo = (page: Page, subscription: string) => page.getByRole('region', { name: `Delivery to ${subscription}` });

test('sign in, subscribe, test, watch a failing delivery retry, retry it after the fix, manage keys, be signed out on revoke', async () => {
  const page = await env.browser.newPage({ viewport: LAPTOP });
  await page.goto(`${env.stack.url}/portal/`);
  await shot(page, '01-sign-in');
  // From the keyboard alone: Tab to the key field, type, Enter.
  await page.keyboard.press('Tab');
  await page.keyboard.type(env.stack.adminKey);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();

  // Create a subscription through the form; the secret is shown once.
  let failing = false;
  env.receiver.on('/orders', () => (failing ? { status: 500, body: 'down for maintenance' } : { status: 200, body: 'thanks' }));
  await page.getByRole('link', { name: 'Subscriptions' }).click();
  await page.getByRole('link', { name: 'New subscription' }).click();
  await page.getByLabel('Name').fill('Orders service');
  await page.getByLabel('Endpoint URL').fill(`${env.receiver.url}/orders`);
  await page.getByLabel('Another type or prefix').fill('order.*');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByLabel('Retry schedule').fill('1s, 2s');
  await shot(page, '02-subscription-new');
  await page.getByRole('button', { name: 'Create subscription' }).click();
  const secret = await page.getByLabel('Signing secret').textContent();
  expect(secret).toMatch(/^whsec_/);
  await shot(page, '03-subscription-created');
  await page.getByRole('link', { name: 'Open Orders service' }).click();
  await page.getByRole('heading', { name: 'Orders service' }).waitFor();
  const subscriptionId = (await page.locator('dd code').first().textContent())!;
  expect(subscriptionId).toMatch(/^sub_/);

  // Send a test and see it delivered.
  await page.getByRole('button', { name: 'Send test' }).click();
  await page.getByText(/HTTP 200 in \d+ ms/).waitFor({ timeout: SEEN_MS });
  expect(await page.locator('.outcome .status').textContent()).toBe('succeeded');
  const ping = env.receiver.received('/orders').find((r) => JSON.parse(r.body).type === 'herald.ping');
  expect(ping && api.signedWith(secret!, ping)).toBe(true);
  await shot(page, '04-subscription-tested');

  // The receiver fails: the events log shows the event, its page shows the retries live.
  failing = true;
  const { id } = await api.send(env.stack, {
    type: 'order.created',
    data: { orderId: 42, total: '19.99' },
    subject: { type: 'order', id: '42' },
    actor: 'user:ada',
  });
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByLabel('Type', { exact: true }).fill('order.*');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: id }).waitFor({ timeout: SEEN_MS });
  await shot(page, '05-events-log');
  await page.getByRole('link', { name: id }).click();
  const delivery = deliveryTo(page, 'Orders service');
  await delivery.getByText('retrying').waitFor({ timeout: SEEN_MS });
  await shot(page, '06-event-retrying');
  await delivery.getByText('failed', { exact: true }).waitFor({ timeout: SEEN_MS });
  expect(await delivery.getByText(/^Attempt \d/).count()).toBe(3);
  expect(env.receiver.received('/orders').filter((r) => JSON.parse(r.body).id === id)).toHaveLength(3);
  const firstAttempt = delivery.locator('details').filter({ hasText: /^Attempt 1 ·/ });
  await firstAttempt.locator('summary').click();
  await firstAttempt.getByText('down for maintenance').waitFor();
  await firstAttempt.getByText('webhook-signature').waitFor();
  await shot(page, '07-event-failed-attempt-open');

  // Fixed: press Retry and see it succeed.
  failing = false;
  await delivery.getByRole('button', { name: 'Retry', exact: true }).click();
  await delivery.getByText('succeeded', { exact: true }).waitFor({ timeout: SEEN_MS });
  await page
    .getByRole('heading', { name: /order\.created/ })
    .getByText('delivered')
    .waitFor({ timeout: SEEN_MS });
  expect(await delivery.getByRole('button', { name: /Retry|Cancel/ }).count()).toBe(0); // nothing left to retry or cancel
  expect(await delivery.getByText(/^Attempt \d/).count()).toBe(4);
  const workflowLink = page.getByRole('link', { name: /in the Temporal Web UI/ }).first();
  expect(await workflowLink.getAttribute('href')).toBe(
    `${sharedServers().temporalUiUrl}/namespaces/default/workflows/${encodeURIComponent(`event/default/${id}`)}`,
  );
  await shot(page, '08-event-retried-delivered');
  const [workflowPage] = await Promise.all([page.context().waitForEvent('page'), workflowLink.click()]);
  await workflowPage.getByText('deliverEvent').first().waitFor({ timeout: SEEN_MS });
  await workflowPage.getByText('Completed').first().waitFor({ timeout: SEEN_MS });
  await shot(workflowPage, '08b-temporal-ui-workflow');
  await workflowPage.close();

  // A second subscription that keeps failing, for the overview's failing list.
  env.receiver.on('/broken', () => ({ status: 502, body: 'bad gateway' }));
  await api.subscribe(env.stack, env.receiver, '/broken', ['order.*'], { name: 'Broken receiver', retry: { maxAttempts: 1 } });
  const shipped = await api.send(env.stack, { type: 'order.shipped', data: { orderId: 42 } });
  await api.finalEvent(env.stack, shipped.id);

  await page.getByRole('link', { name: 'Subscriptions' }).click();
  const ordersRow = page.getByRole('row', { name: /Orders service/ });
  await ordersRow.getByText('100 %').waitFor({ timeout: SEEN_MS });
  await page
    .getByRole('row', { name: /Broken receiver/ })
    .getByText('HTTP 502')
    .waitFor({ timeout: SEEN_MS });
  await shot(page, '09-subscriptions-health');

  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('row', { name: /Broken receiver/ }).waitFor({ timeout: SEEN_MS });
  // The three charts drawn (a locator, not page code: the portal's CSP forbids eval, which
  // Playwright's string predicates need while they poll).
  await page.locator('canvas').nth(2).waitFor({ timeout: SEEN_MS });
  await shot(page, '10-overview');

  // API keys: create a read-only key, shown once.
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Name').fill('read-only viewer');
  await page.getByRole('button', { name: 'Create key' }).click();
  const readOnlyKey = (await page.getByLabel('API key "read-only viewer"').textContent())!;
  expect(readOnlyKey).toMatch(/^hk_/);
  await page.getByRole('row', { name: /read-only viewer/ }).waitFor();
  await shot(page, '11-api-keys-created');

  // That key, in another browser session: no write buttons, and the API refuses writes anyway.
  // Without subscriptions:read it knows deliveries by subscription id only.
  const viewerContext = await env.browser.newContext({ viewport: LAPTOP });
  const viewer = await viewerContext.newPage();
  await signIn(viewer, readOnlyKey);
  expect(await viewer.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).toEqual([
    'Overview',
    'Events',
    'Ingestion',
  ]);
  await viewer.goto(`${env.stack.url}/portal/#/events/${id}`);
  await deliveryTo(viewer, subscriptionId).getByText('succeeded', { exact: true }).waitFor({ timeout: SEEN_MS });
  expect(await viewer.getByRole('button', { name: /Retry|Cancel|Replay|Send test|Create/ }).count()).toBe(0);
  await shot(viewer, '12-read-only-event');
  const refused = await viewer.evaluate(`(async () => {
    const key = sessionStorage.getItem('herald.apiKey');
    const res = await fetch('/v1/events/${id}/retry', { method: 'POST', headers: { authorization: 'Bearer ' + key }, body: '{}' });
    return { status: res.status, storedElsewhere: localStorage.length + document.cookie.length };
  })()`);
  expect(refused).toEqual({ status: 403, storedElsewhere: 0 });

  // The admin revokes it: the viewer's next poll signs it out.
  const keyRow = page.getByRole('row', { name: /read-only viewer/ });
  await keyRow.getByRole('button', { name: 'Revoke…' }).click();
  await keyRow.getByRole('button', { name: 'Yes, revoke' }).click();
  await keyRow.getByRole('button', { name: 'Revoke…' }).waitFor({ state: 'detached' });
  await viewer.getByText('You were signed out: The API key was revoked.').waitFor({ timeout: SEEN_MS });
  expect(await viewer.evaluate(`sessionStorage.getItem('herald.apiKey')`)).toBeNull();
  await shot(viewer, '13-revoked-signed-out');
  await viewerContext.close();

  // The same pages on a phone.
  await page.setViewportSize(PHONE);
  await page.goto(`${env.stack.url}/portal/#/events/${id}`);
  await deliveryTo(page, 'Orders service').getByText('succeeded', { exact: true }).waitFor({ timeout: SEEN_MS });
  await shot(page, '14-phone-event');
  await page.goto(`${env.stack.url}/portal/#/subscriptions`);
  await page.getByRole('row', { name: /Orders service/ }).waitFor({ timeout: SEEN_MS });
  await shot(page, '15-phone-subscriptions');
  // Nothing wider than the screen but the tables, which scroll inside their own box.
  const overflow = await page.evaluate(`document.documentElement.scrollWidth - window.innerWidth`);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('subscription controls: registered and seen types in the picker, edit, rotate, disable and enable, recover, replay', async () => {
  const page = await env.browser.newPage({ viewport: LAPTOP });
  await signIn(page, env.stack.adminKey);
  env.receiver.on('/controls', () => ({ status: 200 }));
  const seen = await api.send(env.stack, { type: 'invoice.paid', data: { invoice: 7 } });
  await api.finalEvent(env.stack, seen.id);

  const registered = await env.stack.request('PUT', '/v1/event-types/invoice.refunded', { description: 'An invoice was refunded in full' });
  expect(registered.status).toBe(201);

  // The picker offers the registry's types with their descriptions, and the types seen in recent events.
  await page.goto(`${env.stack.url}/portal/#/subscriptions/new`);
  await page.getByText('An invoice was refunded in full').waitFor({ timeout: SEEN_MS });
  await page.getByLabel('invoice.refunded').check();
  await page.getByLabel('invoice.paid').check();
  await page.getByLabel('Name').fill('Controls');
  await page.getByLabel('Endpoint URL').fill(`${env.receiver.url}/controls`);
  await page.getByRole('button', { name: 'Create subscription' }).click();
  const first = await page.getByLabel('Signing secret').textContent();
  await page.getByRole('link', { name: 'Open Controls' }).click();
  const facts = page.locator('dl.facts');
  await facts.getByText('invoice.refunded, invoice.paid').waitFor();

  // Edit: the name changes.
  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Name').fill('Invoices');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { name: 'Invoices' }).waitFor({ timeout: SEEN_MS });

  // Rotate: a new secret, shown once.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const rotated = await page.getByLabel('New signing secret').textContent();
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(first);

  // Disable, then enable again.
  await page.getByRole('button', { name: 'Disable' }).click();
  await facts.getByText('disabled', { exact: true }).waitFor({ timeout: SEEN_MS });
  await page.getByRole('button', { name: 'Enable' }).click();
  await facts.getByText('active', { exact: true }).waitFor({ timeout: SEEN_MS });

  // Recover starts its workflow.
  await page.getByRole('button', { name: 'Recover' }).click();
  await page.getByText('Recovery started').waitFor({ timeout: SEEN_MS });
  await shot(page, '16-subscription-controls');

  // Replay an event from its page: a new message with a new webhook-id, signed with the new secret.
  const before = env.receiver.received('/controls').length;
  await page.goto(`${env.stack.url}/portal/#/events/${seen.id}`);
  await page.getByRole('button', { name: 'Replay' }).click();
  await page.getByText('Replay started').waitFor({ timeout: SEEN_MS });
  await page.getByRole('region', { name: 'Delivery to Invoices' }).getByText('succeeded', { exact: true }).waitFor({ timeout: SEEN_MS });
  const replayed = env.receiver.received('/controls').slice(before);
  expect(replayed).toHaveLength(1);
  expect(JSON.parse(replayed[0].body).id).toBe(seen.id);
  expect(api.signedWith(rotated!, replayed[0])).toBe(true);
  await shot(page, '17-event-replayed');
});

test('a broker subscription of each kind: created with its destination picked, shown with its password as ***', async () => {
  const page = await env.browser.newPage({ viewport: LAPTOP });
  await signIn(page, env.stack.adminKey);
  const targets = [
    {
      label: 'RabbitMQ exchange',
      url: 'amqp://guest:guest@127.0.0.1:5672/',
      fields: { Exchange: 'portal.events' },
      shown: 'rabbitmq amqp://guest:***@127.0.0.1:5672/ exchange=portal.events',
    },
    {
      label: 'NATS JetStream subject',
      url: 'nats://127.0.0.1:4222',
      fields: { Subject: 'portal.events' },
      shown: 'nats nats://127.0.0.1:4222 subject=portal.events',
    },
    {
      label: 'Redis stream',
      url: 'redis://:hunter2@127.0.0.1:6379/0',
      fields: { Stream: 'portal:events', 'Maximum length': '1000' },
      shown: 'redis redis://:***@127.0.0.1:6379/0 stream=portal:events maxLen=1000',
    },
    {
      label: 'MQTT topic',
      url: 'mqtt://127.0.0.1:1883',
      fields: { Topic: 'portal/events' },
      shown: 'mqtt mqtt://127.0.0.1:1883 topic=portal/events',
    },
  ];
  for (const [i, t] of targets.entries()) {
    await page.goto(`${env.stack.url}/portal/#/subscriptions/new`);
    await page.getByLabel('Destination').selectOption({ label: t.label });
    await page.getByLabel('Name').fill(`Broker ${i}`);
    await page.getByLabel('Broker URL').fill(t.url);
    for (const [label, value] of Object.entries(t.fields)) await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByLabel('Another type or prefix').fill('portal.broker');
    await page.getByRole('button', { name: 'Add' }).click();
    if (i === 2) await shot(page, '17-new-broker-subscription');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    expect(await page.getByLabel('Signing secret').textContent()).toMatch(/^whsec_/);
    await page.getByText('Consumers verify each message').waitFor();
    await page.getByRole('link', { name: `Open Broker ${i}` }).click();
    await page.locator('dl.facts').getByText(t.shown, { exact: true }).waitFor({ timeout: SEEN_MS });
    expect(await page.locator('dl.facts').textContent()).not.toMatch(/guest:guest|hunter2/);
  }
  await shot(page, '18-broker-subscription');
  await page.goto(`${env.stack.url}/portal/#/subscriptions`);
  await page.getByText('redis redis://:***@127.0.0.1:6379/0 stream=portal:events maxLen=1000').waitFor({ timeout: SEEN_MS });
  await page.close();
});

test('an email subscription is edited in its own fields: recipients and templates', async () => {
  const created = await env.stack.request('POST', '/v1/subscriptions', {
    channel: 'email',
    name: 'Weekly mail',
    to: ['ops@example.test'],
    subject: 'Old {{type}}',
    eventTypes: ['portal.mail'],
  });
  expect(created.status).toBe(201);
  const page = await env.browser.newPage({ viewport: LAPTOP });
  await signIn(page, env.stack.adminKey);
  await page.goto(`${env.stack.url}/portal/#/subscriptions/${created.body.id}`);
  await page.getByRole('button', { name: 'Edit' }).click();
  expect(await page.getByLabel('Endpoint URL').count()).toBe(0);
  await page.getByLabel('Recipients').fill('ops@example.test, oncall@example.test');
  await page.getByLabel('Subject template').fill('');
  await page.getByLabel('Text template').fill('{{type}} on {{subjectText}}');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const stored = await eventually(
    async () => {
      const now = (await env.stack.request('GET', `/v1/subscriptions/${created.body.id}`)).body;
      return now.to.length === 2 && now;
    },
    SEEN_MS,
    'the changes saved',
  );
  expect(stored).toMatchObject({ to: ['ops@example.test', 'oncall@example.test'], body: '{{type}} on {{subjectText}}' });
  expect(stored.subject).toBeUndefined(); // emptied: the default subject again
  await page.close();
});
