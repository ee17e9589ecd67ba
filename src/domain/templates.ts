import { LRUCache } from 'lru-cache';
import Mustache from 'mustache';
import { groupDigest, subjectLabel, type DigestItem } from './digest';

/**
 * Email rendering: a subscription's Mustache templates (logic-less, so a template can only
 * show values, never run code) or Herald's defaults, applied to one event or to a digest.
 * Values are HTML-escaped in the HTML part; the subject is kept to one line of text.
 */

/** The part a template renders: an email's subject, text or HTML part, or a chat message's text (src/domain/chat-formats.ts). */
export type TemplatePart = 'subject' | 'text' | 'html' | 'chat';

// Mustache keeps every template it has parsed, without bound; the API parses whatever
// clients send, so its cache is capped (renders in the worker reuse the recent ones).
const parsed = new LRUCache<string, string>({ max: 2000 });
Mustache.templateCache = { set: (key, value) => void parsed.set(key, value), get: (key) => parsed.get(key), clear: () => parsed.clear() };

export interface EmailTemplates {
  subject?: string;
  body?: string;
  html?: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** What a template may refer to for one event. */
export interface EventTemplateView {
  id: string;
  type: string;
  occurredAt: string;
  subject?: { type: string; id: string };
  /** `type/id` of the subject, for templates that show it as one value. */
  subjectText: string | null;
  actor?: string;
  source?: string;
  correlationId?: string;
  data: Record<string, unknown>;
  /** The data as indented JSON. */
  dataJson: string;
}

/** What a digest's templates may refer to: `digest` is true, events grouped by type and subject. */
export interface DigestTemplateView {
  digest: true;
  count: number;
  from: string;
  to: string;
  groups: ReturnType<typeof groupDigest<EventTemplateView>>;
}

export interface TemplateEvent extends DigestItem {
  data: Record<string, unknown>;
  source?: string;
  correlationId?: string;
}

export function eventTemplateView(event: TemplateEvent): EventTemplateView {
  return {
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    ...(event.subject && { subject: event.subject }),
    subjectText: subjectLabel(event.subject),
    ...(event.actor && { actor: event.actor }),
    ...(event.source && { source: event.source }),
    ...(event.correlationId && { correlationId: event.correlationId }),
    data: event.data,
    dataJson: JSON.stringify(event.data, null, 2),
  };
}

export function digestTemplateView(events: readonly TemplateEvent[], window: { openedAt: string; closedAt: string }): DigestTemplateView {
  return {
    digest: true,
    count: events.length,
    from: window.openedAt,
    to: window.closedAt,
    groups: groupDigest(events.map(eventTemplateView)),
  };
}

export const DEFAULT_TEMPLATES: Required<EmailTemplates> = {
  subject: '[Herald] {{type}}{{#subjectText}} on {{subjectText}}{{/subjectText}}',
  body: [
    '{{type}}',
    '',
    '{{#subjectText}}Subject: {{subjectText}}',
    '{{/subjectText}}{{#actor}}Actor:   {{actor}}',
    '{{/actor}}Time:    {{occurredAt}}',
    'Event:   {{id}}',
    '',
    '{{dataJson}}',
    '',
  ].join('\n'),
  html: [
    '<h2>{{type}}</h2>',
    '<table>',
    '{{#subjectText}}<tr><th align="left">Subject</th><td>{{subjectText}}</td></tr>{{/subjectText}}',
    '{{#actor}}<tr><th align="left">Actor</th><td>{{actor}}</td></tr>{{/actor}}',
    '<tr><th align="left">Time</th><td>{{occurredAt}}</td></tr>',
    '<tr><th align="left">Event</th><td>{{id}}</td></tr>',
    '</table>',
    '<pre>{{dataJson}}</pre>',
    '',
  ].join('\n'),
};

export const DEFAULT_DIGEST_TEMPLATES: Required<EmailTemplates> = {
  subject: '[Herald] {{count}} events from {{from}} to {{to}}',
  body: [
    '{{count}} events from {{from}} to {{to}}',
    '{{#groups}}',
    '',
    '{{type}} ({{count}})',
    '{{#subjects}}',
    '  {{#subject}}{{subject}}{{/subject}}{{^subject}}(no subject){{/subject}} ({{count}})',
    '{{#events}}',
    '    {{occurredAt}}{{#actor}} by {{actor}}{{/actor}}  {{id}}',
    '{{/events}}',
    '{{/subjects}}',
    '{{/groups}}',
  ].join('\n'),
  html: [
    '<h2>{{count}} events</h2>',
    '<p>From {{from}} to {{to}}</p>',
    '{{#groups}}',
    '<h3>{{type}} ({{count}})</h3>',
    '<ul>',
    '{{#subjects}}',
    '<li>{{#subject}}{{subject}}{{/subject}}{{^subject}}(no subject){{/subject}} ({{count}})<ul>',
    '{{#events}}<li>{{occurredAt}}{{#actor}} by {{actor}}{{/actor}} <code>{{id}}</code></li>{{/events}}',
    '</ul></li>',
    '{{/subjects}}',
    '</ul>',
    '{{/groups}}',
    '',
  ].join('\n'),
};

/** Longest subject line Herald sends; RFC 5322 asks for lines under 78 characters where it can. */
const MAX_SUBJECT = 200;

type Token = [string, string, number, number, Token[]?];

/** Every tag of a parsed template, sections' contents included. */
function* tags(tokens: Token[]): Generator<Token> {
  for (const token of tokens) {
    yield token;
    if (token[4]) yield* tags(token[4]);
  }
}

/**
 * Why a template cannot be saved, or null when it can: it must compile, must not ask for
 * partials (there are none), and an HTML template must not print values unescaped.
 */
export function templateProblem(part: TemplatePart, template: string): string | null {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template) as Token[];
  } catch (err) {
    return `is not a valid Mustache template: ${(err as Error).message}`;
  }
  for (const [type, name] of tags(tokens)) {
    if (type === '>') return `uses the partial "${name}"; partials are not supported`;
    if (type === '&' && part === 'html') return `prints "${name}" unescaped ({{{…}}} or {{&…}}); values in HTML are always escaped`;
    // Slack's mrkdwn needs its escaping, and a template is kept when its subscription's format changes.
    if (type === '&' && part === 'chat')
      return `prints "${name}" unescaped ({{{…}}} or {{&…}}); values in chat messages are always escaped`;
  }
  return null;
}

/** Control characters (CR and LF among them) become spaces: a subject is one line, whatever the data holds. */
export function sanitizeSubject(subject: string): string {
  const line = subject
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > MAX_SUBJECT ? `${sliceWhole(line, MAX_SUBJECT - 1)}…` : line;
}

/** The first `length` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair (an emoji). */
export function sliceWhole(text: string, length: number): string {
  const cut = text.slice(0, length);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * Mustache looks names up with `in`, which reaches `constructor` and the rest of a
 * prototype, and calls what it finds: the view is copied into prototype-less objects and
 * lists so templates see data only (`{{groups.map}}` called Array's map on the view, which
 * threw at every delivery, retried without end).
 */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  let copy: object;
  if (Array.isArray(value))
    copy = Object.setPrototypeOf(value.map(plain), null) as unknown[]; // still a list, with its length
  else {
    const fields = Object.create(null) as Record<string, unknown>;
    for (const [key, v] of Object.entries(value)) fields[key] = plain(v);
    copy = fields;
  }
  // Its text where Mustache makes text of it itself (`{{{…}}}`, `{{&…}}` in the text parts), as
  // `valueText` gives it elsewhere: without a prototype an object has none and would throw. A
  // symbol: no template name reaches it.
  Object.defineProperty(copy, Symbol.toPrimitive, { value: () => valueText(value) });
  return copy;
}

/**
 * A value as a template prints it: text, numbers and lists of them as Mustache would; an object,
 * or a list holding one, as its JSON. Mustache would make text of the prototype-less copies
 * `plain` makes, which throws, and the message would never render.
 */
export function valueText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  // Through Array's own `every`: the lists `plain` makes have no prototype.
  if (Array.isArray(value) && Array.prototype.every.call(value, (v) => typeof v !== 'object' || v === null)) return String(value);
  return JSON.stringify(value);
}

const htmlText = (value: unknown) => Mustache.escape(valueText(value));

/** Renders one template over a view, each value's text (`valueText`) passed through `escape`. */
export function renderTemplate(template: string, view: EventTemplateView | DigestTemplateView, escape: (text: string) => string): string {
  return Mustache.render(template, plain(view), {}, { escape: (value: unknown) => escape(valueText(value)) });
}

/**
 * Renders the subject and both parts. A subscription that gives a text body but no HTML
 * one gets its text, escaped, as the HTML part, so both parts say the same.
 */
export function renderEmail(templates: EmailTemplates, view: EventTemplateView | DigestTemplateView): RenderedEmail {
  const defaults = 'digest' in view ? DEFAULT_DIGEST_TEMPLATES : DEFAULT_TEMPLATES;
  const data = plain(view);
  const text = Mustache.render(templates.body ?? defaults.body, data, {}, { escape: valueText });
  const html =
    templates.html !== undefined || templates.body === undefined
      ? Mustache.render(templates.html ?? defaults.html, data, {}, { escape: htmlText })
      : `<pre>${Mustache.escape(text)}</pre>`;
  const subject = sanitizeSubject(Mustache.render(templates.subject ?? defaults.subject, data, {}, { escape: valueText }));
  return { subject: subject || sanitizeSubject(Mustache.render(defaults.subject, data, {}, { escape: valueText })), text, html };
}
