import type { WebhookFormat } from './channels';
import { renderTemplate, sliceWhole, type DigestTemplateView, type EventTemplateView } from './templates';

/**
 * A webhook subscription's `format`: the Standard Webhooks JSON body (docs/api.md section 4),
 * or the incoming-webhook message of a chat service, its text rendered by a Mustache template
 * (the subscription's `template`, or the format's default) over the same views as email's.
 */

export type ChatFormat = Exclude<WebhookFormat, 'standard'>;

// Each service's own bold; the rest of the line is plain text in all three.
const eventTemplate = (bold: string) =>
  [
    `${bold}{{type}}${bold}{{#subjectText}} — {{subjectText}}{{/subjectText}}{{#actor}} by {{actor}}{{/actor}}`,
    '{{#source}}Source: {{source}}',
    '{{/source}}Time: {{occurredAt}}',
    'Event: {{id}}',
  ].join('\n');

const digestTemplate = (bold: string) =>
  [
    `${bold}{{count}} events${bold} from {{from}} to {{to}}`,
    '{{#groups}}',
    '{{#subjects}}',
    '• {{type}}{{#subject}} — {{subject}}{{/subject}} ({{count}})',
    '{{/subjects}}',
    '{{/groups}}',
  ].join('\n');

export const DEFAULT_CHAT_TEMPLATES: Record<ChatFormat, { event: string; digest: string }> = {
  slack: { event: eventTemplate('*'), digest: digestTemplate('*') },
  discord: { event: eventTemplate('**'), digest: digestTemplate('**') },
  teams: { event: eventTemplate('**'), digest: digestTemplate('**') },
};

/**
 * Longest text each service takes: Slack's section block text (3,000; the top-level `text`
 * is its fallback and says the same), Discord's `content` (2,000), and for Teams a bound
 * well inside its ~28 KB message size (also in bytes: TEAMS_TEXT_MAX_BYTES).
 */
export const CHAT_TEXT_LIMITS: Record<ChatFormat, number> = { slack: 3000, discord: 2000, teams: 20_000 };

/**
 * Teams counts its ~28 KB in bytes of the message: 20,000 characters of CJK text are 60 KB of
 * UTF-8, and quotes or controls grow in JSON. Its text, as JSON, is cut to this many bytes,
 * leaving the card around it room.
 */
export const TEAMS_TEXT_MAX_BYTES = 24_000;

const jsonBytes = (text: string) => Buffer.byteLength(JSON.stringify(text));

/** Cuts Teams text, already within its characters, until its JSON is within TEAMS_TEXT_MAX_BYTES. */
function withinTeamsBytes(text: string): string {
  if (jsonBytes(text) <= TEAMS_TEXT_MAX_BYTES) return text;
  // The longest cut that fits, found by halving: the bytes grow with the length.
  let [fits, fails] = [0, text.length];
  while (fails - fits > 1) {
    const mid = (fits + fails) >> 1;
    if (jsonBytes(truncateChatText(text, mid)) <= TEAMS_TEXT_MAX_BYTES) fits = mid;
    else fails = mid;
  }
  return truncateChatText(text, fits);
}

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping): `<!here>` and links cannot be injected. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Discord's and Teams' Markdown: a value's `[text](url)` would show as a link to wherever the
 * event's sender chose, its `**` as bold, and in Discord its `# ` at a line's start as a
 * heading, `||` as a spoiler; escaped with backslashes (CommonMark's), they show as typed.
 * Teams reads only bold, italic, lists and links: only those are escaped there, since some of its
 * clients show a backslash before anything else. Discord is kept from pinging by `allowed_mentions`.
 */
const markdownEscape = (special: RegExp) => (text: string) => text.replace(special, '\\$&');
const escapeDiscord = markdownEscape(/[\\[\]()*_~`|#>]/g);
const escapeTeams = markdownEscape(/[\\[\]()*_]/g);

const ESCAPES: Record<ChatFormat, (text: string) => string> = { slack: escapeSlack, discord: escapeDiscord, teams: escapeTeams };

/**
 * Cuts `text` to at most `max` UTF-16 units, ending in "…", without splitting a surrogate
 * pair or an escape (Slack's `&amp;`, Markdown's `\*`), which would show as broken text.
 */
export function truncateChatText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = sliceWhole(text, max - 1).replace(/&[a-z]{0,3}$/, '');
  const backslashes = /\\*$/.exec(cut)![0].length;
  return `${backslashes % 2 ? cut.slice(0, -1) : cut}…`;
}

/** The text of a chat message: the template (or the format's default) rendered, escaped for the format, cut to its limit. */
export function chatText(format: ChatFormat, template: string | undefined, view: EventTemplateView | DigestTemplateView): string {
  const defaults = DEFAULT_CHAT_TEMPLATES[format];
  const source = template ?? ('digest' in view ? defaults.digest : defaults.event);
  let rendered = renderTemplate(source, view, ESCAPES[format]).trim();
  // Slack and Discord refuse an empty message: a template that rendered nothing (its values
  // missing from this event) gives way to the default, as an email's empty subject does.
  if (!rendered && template !== undefined) rendered = chatText(format, undefined, view);
  const text = truncateChatText(rendered, CHAT_TEXT_LIMITS[format]);
  return format === 'teams' ? withinTeamsBytes(text) : text;
}

export interface SlackMessage {
  text: string;
  blocks: { type: 'section'; text: { type: 'mrkdwn'; text: string } }[];
}

export interface DiscordMessage {
  content: string;
  allowed_mentions: { parse: string[] };
}

export interface TeamsMessage {
  type: 'message';
  attachments: {
    contentType: 'application/vnd.microsoft.card.adaptive';
    content: { $schema: string; type: 'AdaptiveCard'; version: string; body: { type: 'TextBlock'; text: string; wrap: boolean }[] };
  }[];
}

export interface ChatMessages {
  slack: SlackMessage;
  discord: DiscordMessage;
  teams: TeamsMessage;
}

/** The body of each service's incoming webhook carrying `text`. */
const MESSAGE_BUILDERS: { [F in ChatFormat]: (text: string) => ChatMessages[F] } = {
  // https://api.slack.com/messaging/webhooks: `text` is the notification's fallback when `blocks` are given.
  slack: (text) => ({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] }),
  // https://discord.com/developers/docs/resources/webhook#execute-webhook: an empty `parse` list turns every mention off.
  discord: (text) => ({ content: text, allowed_mentions: { parse: [] } }),
  // Teams incoming webhooks (and Workflows) take an Adaptive Card as a message attachment.
  teams: (text) => ({
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [{ type: 'TextBlock', text, wrap: true }],
        },
      },
    ],
  }),
};

/** A chat format's message for one event's or one digest's view. */
export function renderChatMessage<F extends ChatFormat>(
  format: F,
  template: string | undefined,
  view: EventTemplateView | DigestTemplateView,
): ChatMessages[F] {
  return MESSAGE_BUILDERS[format](chatText(format, template, view));
}
