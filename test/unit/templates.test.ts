import { groupDigest } from '../../src/domain/digest';
import { digestEmail, eventEmail } from '../../src/domain/messages';
import type { HeraldEvent } from '../../src/domain/schemas';
import { sanitizeSubject, templateProblem } from '../../src/domain/templates';

const event = (over: Partial<HeraldEvent> = {}): HeraldEvent => ({
  id: 'evt_1',
  type: 'package.promoted',
  data: { version: '1.2.3' },
  occurredAt: '2026-11-20T10:00:00.000Z',
  receivedAt: '2026-11-20T10:00:01.000Z',
  ...over,
});

describe('templateProblem', () => {
  test.each([
    ['subject', '{{type}} on {{subject.id}}'],
    ['text', '{{#subjectText}}{{subjectText}}{{/subjectText}}{{^actor}}nobody{{/actor}}'],
    ['text', 'raw {{{data.note}}} is fine in text'],
    ['html', '<p>{{data.note}}</p>'],
  ] as const)('a %s template %p compiles', (part, template) => {
    expect(templateProblem(part, template)).toBeNull();
  });

  test.each([
    ['subject', 'Hi {{#user}}', /not a valid Mustache template: Unclosed section "user"/],
    ['text', '{{/user}}', /Unopened section "user"/],
    ['text', '{{> footer}}', /partial "footer"/],
    ['html', '<b>{{{data.note}}}</b>', /unescaped/],
    ['html', '<b>{{& data.note}}</b>', /unescaped/],
    ['html', '{{#data}}{{{note}}}{{/data}}', /unescaped/],
  ] as const)('a %s template %p is refused', (part, template, message) => {
    expect(templateProblem(part, template)).toMatch(message);
  });
});

describe('sanitizeSubject', () => {
  test('a subject cut at 200 characters does not split an emoji', () => {
    const subject = sanitizeSubject('😀'.repeat(150));
    expect(subject).toBe(`${'😀'.repeat(99)}…`);
  });

  test('CR, LF and other control characters become single spaces', () => {
    expect(sanitizeSubject('a\r\nBcc: x@example.com\u0000\tb\u2028c')).toBe('a Bcc: x@example.com b c');
  });

  test('a long subject is cut with an ellipsis', () => {
    const cut = sanitizeSubject('x'.repeat(500));
    expect(cut).toHaveLength(200);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('eventEmail', () => {
  test('the default shows type, subject, actor, time and data in both parts', () => {
    const mail = eventEmail({}, event({ subject: { type: 'package', id: 'core' }, actor: 'alice' }));
    expect(mail.subject).toBe('[Herald] package.promoted on package/core');
    expect(mail.text).toBe(
      'package.promoted\n\nSubject: package/core\nActor:   alice\nTime:    2026-11-20T10:00:00.000Z\nEvent:   evt_1\n\n{\n  "version": "1.2.3"\n}\n',
    );
    expect(mail.html).toContain('<td>package&#x2F;core</td>');
    expect(mail.html).toContain('&quot;version&quot;: &quot;1.2.3&quot;');
  });

  test('values are HTML-escaped in the HTML part and left as they are in the text part', () => {
    const mail = eventEmail({ body: '{{data.note}}', html: '<i>{{data.note}}</i>' }, event({ data: { note: '<script>x</script>' } }));
    expect(mail.text).toBe('<script>x</script>');
    expect(mail.html).toBe('<i>&lt;script&gt;x&lt;&#x2F;script&gt;</i>');
  });

  test('templates see the data only, never a prototype (constructor, __proto__)', () => {
    const mail = eventEmail({ body: '[{{data.constructor}}][{{#data.constructor}}x{{/data.constructor}}][{{data.toString}}]' }, event());
    expect(mail.text).toBe('[][][]');
  });

  test("a list's methods are out of reach too: {{list.map}} printed nothing instead of throwing at every delivery", () => {
    const data = { tags: ['a', 'b'], rows: [{ n: 1 }] };
    const mail = eventEmail(
      { body: '[{{data.tags.map}}][{{#data.rows.push}}x{{/data.rows.push}}][{{data.tags.length}}][{{#data.tags}}{{.}};{{/data.tags}}]' },
      event({ data }),
    );
    expect(mail.text).toBe('[][][2][a;b;]');
  });

  test('an object, or a list holding one, prints as its JSON in every part; a list of values as Mustache prints it', () => {
    const data = { change: { from: 1, to: 2 }, rows: [{ n: 1 }], tags: ['a', 'b'] };
    const mail = eventEmail(
      { subject: '{{type}} {{subject}}', body: '{{data.change}} {{data.rows}} {{data.tags}}', html: '<i>{{data.change}}</i>' },
      event({ subject: { type: 'package', id: 'core' }, data }),
    );
    expect(mail.subject).toBe('package.promoted {"type":"package","id":"core"}');
    expect(mail.text).toBe('{"from":1,"to":2} [{"n":1}] a,b');
    expect(mail.html).toBe('<i>{&quot;from&quot;:1,&quot;to&quot;:2}</i>');
  });

  test('an object printed unescaped in the text parts prints as its JSON too', () => {
    const mail = eventEmail(
      { subject: '{{{subject}}}', body: '{{& data.change}} {{{data.rows}}} {{{data.tags}}}' },
      event({ subject: { type: 'package', id: 'core' }, data: { change: { a: 1 }, rows: [{ n: 1 }, { n: 2 }], tags: ['a', 'b'] } }),
    );
    expect(mail.subject).toBe('{"type":"package","id":"core"}');
    expect(mail.text).toBe('{"a":1} [{"n":1},{"n":2}] a,b');
  });

  test('a subject template rendering nothing falls back to the default subject', () => {
    expect(eventEmail({ subject: '{{actor}}' }, event()).subject).toBe('[Herald] package.promoted');
  });
});

describe('digests', () => {
  const events = [
    event({ id: 'e1', type: 'deploy.finished', subject: { type: 'service', id: 'api' } }),
    event({ id: 'e2', type: 'deploy.failed' }),
    event({ id: 'e3', type: 'deploy.finished', subject: { type: 'service', id: 'web' } }),
    event({ id: 'e4', type: 'deploy.finished', subject: { type: 'service', id: 'api' } }),
  ];

  test('groupDigest groups by type, then subject, in order of first appearance', () => {
    const groups = groupDigest(events);
    expect(groups.map((g) => [g.type, g.count, g.subjects.map((s) => [s.subject, s.events.map((e) => e.id)])])).toEqual([
      [
        'deploy.finished',
        3,
        [
          ['service/api', ['e1', 'e4']],
          ['service/web', ['e3']],
        ],
      ],
      ['deploy.failed', 1, [[null, ['e2']]]],
    ]);
  });

  test('the default digest email counts and lists every event under its type and subject', () => {
    const mail = digestEmail({}, events, { openedAt: '2026-11-20T10:00:00.000Z', closedAt: '2026-11-20T11:00:00.000Z' });
    expect(mail.subject).toBe('[Herald] 4 events from 2026-11-20T10:00:00.000Z to 2026-11-20T11:00:00.000Z');
    expect(mail.text).toContain(
      'deploy.finished (3)\n  service/api (2)\n    2026-11-20T10:00:00.000Z  e1\n    2026-11-20T10:00:00.000Z  e4\n  service/web (1)\n',
    );
    expect(mail.text).toContain('deploy.failed (1)\n  (no subject) (1)\n    2026-11-20T10:00:00.000Z  e2\n');
    expect(mail.html).toContain('<h3>deploy.finished (3)</h3>');
  });

  test('a digest template naming a method of its groups renders the groups, without throwing', () => {
    const window = { openedAt: '2026-11-20T10:00:00.000Z', closedAt: '2026-11-20T11:00:00.000Z' };
    const mail = digestEmail({ body: '[{{groups.map}}]{{#groups}} {{type}} {{count}}{{/groups}}' }, events, window);
    expect(mail.text).toBe('[] deploy.finished 3 deploy.failed 1');
  });
});
