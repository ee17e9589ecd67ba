import * as api from '../harness/api';
import { useSmtpServer } from '../harness/smtp';
import { useStack } from '../harness/stack';

/** The email channel against a real SMTP server on loopback, sent by the real worker process. */

const smtp = useSmtpServer();
const env = useStack({ workerEnv: () => ({ HERALD_SMTP_URL: smtp.sink.url, HERALD_SMTP_FROM: 'Herald <herald@herald.test>' }) });

async function subscribeEmail(to: string[], eventTypes: string[], extra: Record<string, unknown> = {}) {
  const res = await env.stack.request('POST', '/v1/subscriptions', { channel: 'email', to, eventTypes, ...extra });
  expect(res.status).toBe(201);
  return res.body as { id: string };
}

const attemptsOf = async (eventId: string) => (await env.stack.request('GET', `/v1/events/${eventId}/attempts`)).body.data.reverse(); // oldest first

/** The header section of a raw message: every line up to the first empty one, unfolded. */
const rawHeaders = (raw: string) =>
  raw
    .split(/\r\n\r\n/)[0]
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n');

test('an event reaches an email subscription: one message to its recipients with subject, text and HTML, and the attempt is in the audit', async () => {
  await subscribeEmail(['ops@example.test', 'audit@example.test'], ['package.promoted']);
  const { id } = await api.send(env.stack, {
    type: 'package.promoted',
    subject: { type: 'package', id: 'core/herald' },
    actor: 'alice',
    occurredAt: '2026-11-20T10:00:00Z',
    data: { channel: 'stable', version: '1.2.3' },
  });
  const view = await api.finalEvent(env.stack, id);
  expect(view.status).toBe('delivered');
  expect(view.deliveries[0]).toMatchObject({ channel: 'email', status: 'succeeded', attempts: 1, lastResponseStatus: 250 });

  const got = smtp.sink.to('ops@example.test');
  expect(got).toHaveLength(1);
  const [mail] = got;
  expect(mail.recipients.sort()).toEqual(['audit@example.test', 'ops@example.test']);
  expect(mail.parsed.from?.value).toEqual([{ name: 'Herald', address: 'herald@herald.test' }]);
  expect((mail.parsed.to as { text: string }).text).toBe('ops@example.test, audit@example.test');
  expect(mail.parsed.subject).toBe('[Herald] package.promoted on package/core/herald');
  expect(mail.parsed.text).toContain('Actor:   alice');
  expect(mail.parsed.text).toContain('Time:    2026-11-20T10:00:00.000Z');
  expect(mail.parsed.text).toContain('"version": "1.2.3"');
  expect(mail.parsed.html).toContain('<h2>package.promoted</h2>');
  expect(mail.parsed.html).toContain('<td>alice</td>');
  // Stable per delivery: derived from the delivery's message id.
  expect(mail.parsed.messageId).toBe(`<${view.deliveries[0].messageId}@herald.test>`);
  expect(mail.parsed.headers.get('x-herald-event-id')).toBe(id);

  const [attempt] = await attemptsOf(id);
  expect(attempt).toMatchObject({
    attempt: 1,
    request: {
      url: `smtp://127.0.0.1:${smtp.sink.port}`,
      headers: { to: 'ops@example.test, audit@example.test', subject: mail.parsed.subject, 'message-id': mail.parsed.messageId },
    },
    response: { status: 250 },
    error: null,
  });
});

test('SMTP 451 twice then 250: delivered on the 3rd attempt, every attempt with the same Message-ID', async () => {
  smtp.sink.on('flaky@example.test', (n) => (n <= 2 ? 451 : 250));
  await subscribeEmail(['flaky@example.test'], ['mail.flaky'], { retry: { schedule: ['200ms', '200ms', '200ms'] } });
  const { id } = await api.send(env.stack, { type: 'mail.flaky', data: {} });
  const view = await api.finalEvent(env.stack, id);
  expect(view.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 3, lastResponseStatus: 250, error: null });
  const attempts = await attemptsOf(id);
  expect(attempts.map((a: { response: { status: number } }) => a.response.status)).toEqual([451, 451, 250]);
  expect(attempts[0].error).toBe('SMTP server answered 451');
  expect(new Set(attempts.map((a: { request: { headers: Record<string, string> } }) => a.request.headers['message-id'])).size).toBe(1);
  expect(smtp.sink.to('flaky@example.test')).toHaveLength(1);
});

test('SMTP 550 fails the delivery after one attempt', async () => {
  smtp.sink.on('nobody@example.test', () => 550);
  await subscribeEmail(['nobody@example.test'], ['mail.rejected'], { retry: { schedule: ['200ms', '200ms'] } });
  const { id } = await api.send(env.stack, { type: 'mail.rejected', data: {} });
  const view = await api.finalEvent(env.stack, id);
  expect(view.status).toBe('failed');
  expect(view.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, lastResponseStatus: 550, error: 'SMTP server answered 550' });
  const attempts = await attemptsOf(id);
  expect(attempts).toHaveLength(1);
  expect(attempts[0].response.body).toMatch(/550/);
});

test('a recipient refused beside an accepted one does not fail the delivery; the attempt names it', async () => {
  smtp.sink.on('gone@example.test', () => 550);
  await subscribeEmail(['kept@example.test', 'gone@example.test'], ['mail.partial']);
  const { id } = await api.send(env.stack, { type: 'mail.partial', data: {} });
  const view = await api.finalEvent(env.stack, id);
  expect(view.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(smtp.sink.to('kept@example.test')).toHaveLength(1);
  const [attempt] = await attemptsOf(id);
  expect(attempt.response.body).toMatch(/\(rejected: gone@example\.test\)$/);
});

test('a retry request sends an email waiting out a long delay now', async () => {
  smtp.sink.on('later@example.test', (n) => (n === 1 ? 452 : 250));
  await subscribeEmail(['later@example.test'], ['mail.later'], { retry: { schedule: ['1h'] } });
  const { id } = await api.send(env.stack, { type: 'mail.later', data: {} });
  await api.eventWhen(env.stack, id, (v) => v.deliveries[0]?.status === 'retrying', 30_000, 'the first attempt to fail');
  expect((await env.stack.request('POST', `/v1/events/${id}/retry`, {})).status).toBe(202);
  const view = await api.finalEvent(env.stack, id);
  expect(view.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
  expect(smtp.sink.to('later@example.test')).toHaveLength(1);
});

test('hostile data cannot add headers, recipients or markup: CR LF in subject fields, <script> in values', async () => {
  await subscribeEmail(['guarded@example.test'], ['mail.hostile'], {
    subject: 'Alert: {{subject.id}} {{data.title}}',
    html: '<p class="{{data.title}}">{{actor}}</p>',
  });
  const { id } = await api.send(env.stack, {
    type: 'mail.hostile',
    subject: { type: 'host', id: 'web-1\r\nBcc: victim@example.test\r\nX-Injected: yes' },
    actor: '<script>alert(1)</script>',
    data: { title: '"><img src=x onerror=alert(1)>\nSubject: forged' },
  });
  await api.finalEvent(env.stack, id);
  const [mail] = smtp.sink.to('guarded@example.test');
  expect(mail.recipients).toEqual(['guarded@example.test']);
  expect(smtp.sink.to('victim@example.test')).toHaveLength(0);

  const headers = rawHeaders(mail.raw);
  expect(headers.filter((h) => /^(bcc|x-injected|subject):/i.test(h))).toEqual([expect.stringMatching(/^Subject: /)]);
  expect(mail.parsed.headers.has('bcc')).toBe(false);
  expect(mail.parsed.subject).toBe('Alert: web-1 Bcc: victim@example.test X-Injected: yes "><img src=x onerror=alert(1)> Subject: forged');
  expect(mail.parsed.html).toBe(
    '<p class="&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;\nSubject: forged">&lt;script&gt;alert(1)&lt;&#x2F;script&gt;</p>',
  );
});

test('templates that do not compile, unescaped HTML values and fields of the other channel answer 400 with their path', async () => {
  const create = (body: Record<string, unknown>) => env.stack.request('POST', '/v1/subscriptions', { eventTypes: ['a.b'], ...body });
  const unclosed = await create({ channel: 'email', to: ['a@example.test'], subject: 'Hi {{#user}}' });
  expect(unclosed.status).toBe(400);
  expect(unclosed.body.errors).toEqual([
    { path: 'subject', message: expect.stringMatching(/not a valid Mustache template: Unclosed section "user"/) },
  ]);
  const raw = await create({ channel: 'email', to: ['a@example.test'], html: '<b>{{{data.note}}}</b>' });
  expect(raw.body.errors).toEqual([{ path: 'html', message: expect.stringMatching(/unescaped/) }]);
  const badTo = await create({ channel: 'email', to: ['not an address'] });
  expect(badTo.body.errors[0].path).toBe('to.0');
  const webhookSubject = await create({ channel: 'webhook', url: 'http://127.0.0.1:9/x', subject: 'x' });
  expect(webhookSubject.body.errors).toEqual([{ path: 'subject', message: 'applies to channel "email" only' }]);

  const sub = await subscribeEmail(['a@example.test'], ['a.b']);
  const patch = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { url: 'http://127.0.0.1:9/x' });
  expect(patch.body.errors).toEqual([{ path: 'url', message: 'applies to channel "webhook" only' }]);
});

test('preview renders subject, text and HTML with a read-only key and sends nothing', async () => {
  const sub = await subscribeEmail(['preview@example.test'], ['preview.*'], {
    subject: '{{type}} by {{actor}}',
    body: 'Version {{data.version}}',
  });
  const key = await env.stack.request('POST', '/v1/api-keys', { name: 'reader', tenant: 'default', scopes: ['subscriptions:read'] });
  const res = await env.stack.request(
    'POST',
    `/v1/subscriptions/${sub.id}/preview`,
    { event: { type: 'preview.shown', actor: 'bob', data: { version: '<2.0>' } } },
    { authorization: `Bearer ${key.body.key}` },
  );
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    channel: 'email',
    subject: 'preview.shown by bob',
    text: 'Version <2.0>',
    html: '<pre>Version &lt;2.0&gt;</pre>',
  });
  const invalid = await env.stack.request('POST', `/v1/subscriptions/${sub.id}/preview`, { event: { type: 'Not A Type', data: {} } });
  expect(invalid.body.errors[0].path).toBe('event.type');
  expect(smtp.sink.to('preview@example.test')).toHaveLength(0);
});
