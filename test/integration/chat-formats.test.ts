import * as api from '../harness/api';
import { useStack } from '../harness/stack';

/**
 * Chat formats: webhook subscriptions whose body is a Slack, Discord or Teams incoming-webhook
 * message, delivered by the real worker to the local receiver, still signed like every webhook.
 */

const env = useStack();

const event = {
  id: 'chat-1',
  type: 'order.paid',
  subject: { type: 'order', id: '42' },
  actor: 'ana <!channel> @everyone',
  occurredAt: '2026-11-20T10:00:00Z',
  data: { total: 12 },
};

const received = (path: string) => {
  const got = env.receiver.received(path);
  expect(got).toHaveLength(1);
  return got[0];
};

const preview = async (id: string) => {
  const res = await env.stack.request('POST', `/v1/subscriptions/${id}/preview`, { event });
  expect(res.status).toBe(200);
  return res.body as { channel: string; body: unknown };
};

test('one event reaches a slack, a discord, a teams and a templated subscription, each in its service’s shape, signed, and as preview shows it', async () => {
  const slack = await api.subscribe(env.stack, env.receiver, '/chat/slack', ['order.*'], { format: 'slack' });
  const discord = await api.subscribe(env.stack, env.receiver, '/chat/discord', ['order.*'], { format: 'discord' });
  const teams = await api.subscribe(env.stack, env.receiver, '/chat/teams', ['order.*'], { format: 'teams' });
  const templated = await api.subscribe(env.stack, env.receiver, '/chat/templated', ['order.*'], {
    format: 'slack',
    template: 'Order {{subject.id}} paid {{data.total}} EUR by {{actor}}',
  });

  const { id } = await api.send(env.stack, event);
  const view = await api.finalEvent(env.stack, id);
  expect(view.status).toBe('delivered');
  expect(view.deliveries).toHaveLength(4);

  const slackReq = received('/chat/slack');
  const slackBody = JSON.parse(slackReq.body);
  expect(typeof slackBody.text).toBe('string');
  expect(slackBody.text).toContain('*order.paid* — order/42 by ana &lt;!channel&gt; @everyone');
  expect(slackBody.text).toContain('Event: chat-1');
  expect(slackBody.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: slackBody.text } }]);

  const discordReq = received('/chat/discord');
  const discordBody = JSON.parse(discordReq.body);
  expect(typeof discordBody.content).toBe('string');
  expect(discordBody.content.length).toBeLessThanOrEqual(2000);
  expect(discordBody.content).toContain('**order.paid** — order/42');
  expect(discordBody.allowed_mentions).toEqual({ parse: [] });

  const teamsReq = received('/chat/teams');
  const teamsBody = JSON.parse(teamsReq.body);
  expect(teamsBody.type).toBe('message');
  expect(teamsBody.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
  expect(teamsBody.attachments[0].content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
  expect(teamsBody.attachments[0].content.body[0]).toEqual({ type: 'TextBlock', text: expect.stringContaining('order/42'), wrap: true });

  const templatedReq = received('/chat/templated');
  expect(JSON.parse(templatedReq.body).text).toBe('Order 42 paid 12 EUR by ana &lt;!channel&gt; @everyone');

  for (const [sub, req] of [
    [slack, slackReq],
    [discord, discordReq],
    [teams, teamsReq],
    [templated, templatedReq],
  ] as const) {
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toMatch(/^msg_/);
    expect(api.signedWith(sub.secret, req)).toBe(true);
    expect(await preview(sub.id)).toEqual({ channel: 'webhook', body: JSON.parse(req.body) });
  }
});

test('the subscription shows its format and template; a patch changes the format and removes the template with null', async () => {
  const sub = await api.subscribe(env.stack, env.receiver, '/chat/patched', ['order.*'], { format: 'discord', template: '{{type}}' });
  const shown = await env.stack.request('GET', `/v1/subscriptions/${sub.id}`);
  expect(shown.body).toMatchObject({ format: 'discord', template: '{{type}}' });

  const patched = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { format: 'teams', template: null });
  expect(patched.status).toBe(200);
  expect(patched.body.format).toBe('teams');
  expect(patched.body).not.toHaveProperty('template');

  const standard = await api.subscribe(env.stack, env.receiver, '/chat/standard', ['order.*']);
  expect((await env.stack.request('GET', `/v1/subscriptions/${standard.id}`)).body.format).toBe('standard');
  expect((await preview(standard.id)).body).toMatchObject({ id: 'chat-1', type: 'order.paid', data: { total: 12 } });
});

test('a template that does not compile, an unknown format and a format on an email subscription answer 400 with their path', async () => {
  const create = (body: Record<string, unknown>) => env.stack.request('POST', '/v1/subscriptions', { eventTypes: ['a.b'], ...body });
  const unclosed = await create({ channel: 'webhook', url: `${env.receiver.url}/x`, format: 'slack', template: 'Hi {{#user}}' });
  expect(unclosed.status).toBe(400);
  expect(unclosed.body.errors).toEqual([{ path: 'template', message: expect.stringMatching(/Unclosed section "user"/) }]);

  const raw = await create({ channel: 'webhook', url: `${env.receiver.url}/x`, format: 'slack', template: '{{{actor}}}' });
  expect(raw.body.errors).toEqual([{ path: 'template', message: expect.stringMatching(/unescaped/) }]);

  const unknown = await create({ channel: 'webhook', url: `${env.receiver.url}/x`, format: 'irc' });
  expect(unknown.status).toBe(400);
  expect(unknown.body.errors[0].path).toBe('format');

  const email = await create({ channel: 'email', to: ['a@example.test'], format: 'slack' });
  expect(email.status).toBe(400);
  expect(email.body.errors).toEqual([{ path: 'format', message: 'applies to channel "webhook" only' }]);
});
