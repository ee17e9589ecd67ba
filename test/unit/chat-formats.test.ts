import {
  CHAT_TEXT_LIMITS,
  chatText,
  escapeSlack,
  renderChatMessage,
  TEAMS_TEXT_MAX_BYTES,
  truncateChatText,
} from '../../src/domain/chat-formats';
import { digestChatMessage, eventChatMessage } from '../../src/domain/messages';
import { subscriptionCreateSchema, subscriptionPatchSchema, type HeraldEvent } from '../../src/domain/schemas';
import { digestTemplateView, eventTemplateView, templateProblem } from '../../src/domain/templates';

const event = (over: Partial<HeraldEvent> = {}): HeraldEvent => ({
  id: 'evt_1',
  type: 'order.paid',
  data: { total: 12 },
  occurredAt: '2026-11-20T10:00:00.000Z',
  receivedAt: '2026-11-20T10:00:01.000Z',
  subject: { type: 'order', id: '42' },
  actor: 'ana',
  ...over,
});
const window = { openedAt: '2026-11-20T10:00:00.000Z', closedAt: '2026-11-20T11:00:00.000Z' };

describe('the default text of a chat message', () => {
  test('sums the event up on one line, then its time and id', () => {
    expect(chatText('slack', undefined, eventTemplateView(event({ source: 'shop' })))).toBe(
      ['*order.paid* — order/42 by ana', 'Source: shop', 'Time: 2026-11-20T10:00:00.000Z', 'Event: evt_1'].join('\n'),
    );
  });

  test('leaves out what the event does not have, in each service’s bold', () => {
    const bare = eventTemplateView(event({ subject: undefined, actor: undefined }));
    expect(chatText('discord', undefined, bare)).toBe(['**order.paid**', 'Time: 2026-11-20T10:00:00.000Z', 'Event: evt\\_1'].join('\n'));
    expect(chatText('teams', undefined, bare)).toBe(chatText('discord', undefined, bare));
  });
});

describe('each format has its service’s incoming-webhook shape', () => {
  test('slack: the text as fallback and as a mrkdwn section', () => {
    const message = eventChatMessage('slack', undefined, event());
    expect(message).toEqual({
      text: expect.stringContaining('*order.paid* — order/42 by ana'),
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining('Event: evt_1') } }],
    });
    expect(message.blocks[0].text.text).toBe(message.text);
  });

  test('discord: content with every mention turned off', () => {
    expect(eventChatMessage('discord', undefined, event())).toEqual({
      content: expect.stringContaining('**order.paid** — order/42 by ana'),
      allowed_mentions: { parse: [] },
    });
  });

  test('teams: an Adaptive Card message with one wrapping TextBlock', () => {
    const message = eventChatMessage('teams', undefined, event());
    expect(message).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [{ type: 'TextBlock', text: expect.stringContaining('**order.paid** — order/42 by ana'), wrap: true }],
          },
        },
      ],
    });
  });
});

describe('escaping', () => {
  test('slack: &, < and > in values are escaped, so no <!channel> or link can be injected', () => {
    const text = chatText('slack', undefined, eventTemplateView(event({ actor: '<!channel> & <https://evil.example|you>' })));
    expect(text).toContain('by &lt;!channel&gt; &amp; &lt;https://evil.example|you&gt;');
    expect(text).not.toContain('<');
  });

  test('slack: the template’s own markup is kept, only values are escaped', () => {
    const text = chatText(
      'slack',
      '<https://shop.example/orders/{{subject.id}}|{{data.title}}>',
      eventTemplateView(event({ data: { title: 'a>b' } })),
    );
    expect(text).toBe('<https://shop.example/orders/42|a&gt;b>');
  });

  test('discord: values are printed as they are, and mentions in them are not parsed', () => {
    const message = eventChatMessage('discord', undefined, event({ actor: '@everyone' }));
    expect(message.content).toContain('by @everyone');
    expect(message.allowed_mentions.parse).toEqual([]);
  });

  test('teams: values are printed as plain text', () => {
    const message = eventChatMessage('teams', '{{data.note}}', event({ data: { note: 'a < b & "c"' } }));
    expect(message.attachments[0].content.body[0].text).toBe('a < b & "c"');
  });

  test.each([
    ['discord', '\\[Reset your password\\]\\(https://evil.example\\): a\n\\# Urgent \\*now\\* \\\\o/'],
    // Teams reads no headings: only what it reads is escaped.
    ['teams', '\\[Reset your password\\]\\(https://evil.example\\): a\n# Urgent \\*now\\* \\\\o/'],
  ] as const)('%s: Markdown in values shows as typed, never as a link or a heading', (format, expected) => {
    const view = eventTemplateView(
      event({ actor: '[Reset your password](https://evil.example)', data: { note: 'a\n# Urgent *now* \\o/' } }),
    );
    expect(chatText(format, '{{actor}}: {{data.note}}', view)).toBe(expected);
    // Cut after a backslash, the escape goes with what it escaped: the … is not escaped.
    const cut = chatText(format, '{{data.note}}', eventTemplateView(event({ data: { note: '*'.repeat(15_000) } })));
    expect(cut.endsWith('\\*…')).toBe(true);
  });

  test('escapeSlack escapes exactly the three control characters', () => {
    expect(escapeSlack('a & <b> *c* _d_')).toBe('a &amp; &lt;b&gt; *c* _d_');
  });
});

describe('a template replaces the default text', () => {
  test.each(['slack', 'discord', 'teams'] as const)('%s', (format) => {
    const text = chatText(format, 'Order {{subject.id}} paid: {{data.total}} EUR', eventTemplateView(event()));
    expect(text).toBe('Order 42 paid: 12 EUR');
  });

  test.each(['slack', 'discord', 'teams'] as const)('%s prints an object as its JSON', (format) => {
    const text = chatText(format, '{{data}} {{subject}}', eventTemplateView(event()));
    expect(text).toBe('{"total":12} {"type":"order","id":"42"}');
  });

  test.each(['slack', 'discord', 'teams'] as const)(
    '%s: a template that renders nothing for this event gives way to the default text',
    (format) => {
      const view = eventTemplateView(event());
      expect(chatText(format, '{{data.summary}}', view)).toBe(chatText(format, undefined, view));
    },
  );

  test('a template sees data only, not the prototype of its view', () => {
    expect(chatText('discord', '[{{constructor}}]', eventTemplateView(event()))).toBe('[]');
  });

  test('a chat template printing a value unescaped is refused, as in HTML', () => {
    expect(templateProblem('chat', '{{{data.note}}}')).toMatch(/unescaped/);
    expect(templateProblem('chat', '{{& data.note}}')).toMatch(/unescaped/);
    expect(templateProblem('chat', '{{type}} {{#actor}}by {{actor}}{{/actor}}')).toBeNull();
  });
});

describe('truncation', () => {
  test('discord content is cut to 2,000 characters, ending in …', () => {
    const message = eventChatMessage('discord', '{{data.note}}', event({ data: { note: 'x'.repeat(5000) } }));
    expect(message.content).toHaveLength(2000);
    expect(message.content.endsWith('x…')).toBe(true);
  });

  test('slack text is cut to a section block’s 3,000 characters', () => {
    const message = eventChatMessage('slack', '{{data.note}}', event({ data: { note: 'y'.repeat(5000) } }));
    expect(message.text).toHaveLength(CHAT_TEXT_LIMITS.slack);
    expect(message.blocks[0].text.text).toBe(message.text);
  });

  test('teams text is bounded too', () => {
    const message = eventChatMessage('teams', '{{data.note}}', event({ data: { note: 'z'.repeat(50_000) } }));
    expect(message.attachments[0].content.body[0].text).toHaveLength(CHAT_TEXT_LIMITS.teams);
  });

  test('teams text is bounded in bytes as well: many-byte characters and JSON escapes count', () => {
    for (const note of ['あ'.repeat(30_000), '"'.repeat(30_000), '😀'.repeat(15_000)]) {
      const text = eventChatMessage('teams', '{{data.note}}', event({ data: { note } })).attachments[0].content.body[0].text;
      const bytes = Buffer.byteLength(JSON.stringify(text));
      expect(bytes).toBeLessThanOrEqual(TEAMS_TEXT_MAX_BYTES);
      expect(bytes).toBeGreaterThan(TEAMS_TEXT_MAX_BYTES - 8);
      expect(text.endsWith('…')).toBe(true);
    }
  });

  test('text within the limit is left whole', () => {
    expect(truncateChatText('abc', 3)).toBe('abc');
  });

  test('a surrogate pair is not split', () => {
    expect(truncateChatText('ab😀cd', 4)).toBe('ab…');
  });

  test('a Slack escape is not split', () => {
    expect(truncateChatText('ab&amp;cdef', 6)).toBe('ab…');
    expect(truncateChatText('ab&amp;cdef', 8)).toBe('ab&amp;…');
  });
});

describe('digests list the collected events, grouped', () => {
  const events = [event(), event({ id: 'evt_2', actor: 'bo' }), event({ id: 'evt_3', type: 'user.created', subject: undefined })];

  test('with a count line and one line per type and subject', () => {
    expect(chatText('slack', undefined, digestTemplateView(events, window))).toBe(
      ['*3 events* from 2026-11-20T10:00:00.000Z to 2026-11-20T11:00:00.000Z', '• order.paid — order/42 (2)', '• user.created (1)'].join(
        '\n',
      ),
    );
  });

  test.each([
    ['slack', (m: object) => (m as { text: string }).text],
    ['discord', (m: object) => (m as { content: string }).content],
    ['teams', (m: object) => (m as { attachments: [{ content: { body: [{ text: string }] } }] }).attachments[0].content.body[0].text],
  ] as const)('%s renders a digest in its own shape', (format, textOf) => {
    expect(textOf(digestChatMessage(format, undefined, events, window))).toContain('3 events');
  });

  test('a template renders over the digest view', () => {
    const message = digestChatMessage('discord', '{{count}} new: {{#groups}}{{type}} {{/groups}}', events, window);
    expect(message.content).toBe('3 new: order.paid user.created');
  });

  test('digest values are escaped for Slack too', () => {
    const message = renderChatMessage(
      'slack',
      undefined,
      digestTemplateView([event({ type: 'a.b', subject: { type: 'x', id: '<y>' } })], window),
    );
    expect(message.text).toContain('• a.b — x/&lt;y&gt; (1)');
  });
});

describe('subscription schemas', () => {
  const webhook = { channel: 'webhook', url: 'https://hooks.example/x', eventTypes: ['order.*'] };

  test('format and template are accepted on a webhook subscription, standard being the default', () => {
    expect(subscriptionCreateSchema.parse({ ...webhook, format: 'slack', template: '{{type}}' })).toMatchObject({
      format: 'slack',
      template: '{{type}}',
    });
    expect(subscriptionCreateSchema.parse(webhook).format).toBeUndefined();
  });

  test('an unknown format is refused on its path', () => {
    const result = subscriptionCreateSchema.safeParse({ ...webhook, format: 'irc' });
    expect(result.error?.issues.map((i) => i.path)).toEqual([['format']]);
  });

  test('a template that does not compile is refused on its path', () => {
    const result = subscriptionCreateSchema.safeParse({ ...webhook, format: 'slack', template: '{{#open}}' });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['template'], message: expect.stringMatching(/Unclosed section "open"/) }),
    ]);
  });

  test('format and template are refused for an email subscription', () => {
    const result = subscriptionCreateSchema.safeParse({
      channel: 'email',
      to: ['a@example.com'],
      eventTypes: ['x'],
      format: 'slack',
      template: 'x',
    });
    expect(result.error?.issues.map((i) => [i.path, i.message])).toEqual([
      [['format'], 'applies to channel "webhook" only'],
      [['template'], 'applies to channel "webhook" only'],
    ]);
  });

  test('a patch removes the template with null and cannot null the format', () => {
    expect(subscriptionPatchSchema.parse({ template: null })).toEqual({ template: null });
    expect(subscriptionPatchSchema.safeParse({ format: null }).success).toBe(false);
    expect(subscriptionPatchSchema.safeParse({ template: '{{/x}}' }).error?.issues[0]?.path).toEqual(['template']);
  });
});
