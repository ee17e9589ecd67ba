import { z } from 'zod';
import { BROKER_TARGET_SCHEMAS } from './broker-targets';
import { CHANNEL_NAMES, foreignTargetFields, isBrokerChannel, REQUIRED_TARGET_FIELD, WEBHOOK_FORMATS } from './channels';
import { DIGEST_MAX_EVENTS, DIGEST_MAX_WINDOW_MS, DIGEST_MIN_WINDOW_MS } from './digest';
import { FIELDS_HELP, filterProblems } from './filter';
import { DURATION_PATTERN, parseDuration } from './schedule';
import { templateProblem, type TemplatePart } from './templates';
import { DELIVERY_STATUSES, EVENT_STATUSES } from './status';

/**
 * The one definition of Herald's public shapes: input validation at the edge, the
 * TypeScript types (z.infer) and the OpenAPI document all come from these schemas.
 */

export const EVENT_TYPE_PATTERN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
// eslint-disable-next-line no-control-regex -- NUL is what this pattern refuses; it is published as the OpenAPI pattern
const NO_NUL = /^[^\u0000]*$/;
/** Text stored as a field: NUL is refused (PostgreSQL, under FerretDB, cannot store it). */
const text = (max: number) => z.string().min(1).max(max).regex(NO_NUL, 'must not contain NUL characters');
const shortText = text(256);

export const eventTypeSchema = z
  .string()
  .max(256)
  .regex(EVENT_TYPE_PATTERN, 'must be dot-separated segments of a-z, 0-9, _ and -, e.g. "package.promoted"');

/**
 * How deep an event's `data` may nest (`data` itself is level 1). The API reads a body with
 * `JSON.parse`, which takes any depth, but writing one (Temporal's payloads, answers) recurses:
 * a body of 256 KiB can nest 100,000 levels, past what `JSON.stringify` survives. MongoDB
 * documents stop at 100 levels too.
 */
export const MAX_DATA_DEPTH = 100;

interface JsonNode {
  item: unknown;
  depth: number;
  parent?: JsonNode;
  key?: PropertyKey;
}

/**
 * What a parsed JSON document holds that cannot be written back, found in one walk (a loop, not
 * recursion, so any depth is safe to check): whether an object or array nests deeper than
 * `maxDepth` levels (the document itself is level 1), and the path of the first number JSON
 * cannot carry (`JSON.parse` reads 1e400 as Infinity, which every later write turns into null
 * without a word). A path is built only for what is found.
 */
export function inspectJson(value: unknown, maxDepth: number): { deeper: boolean; nonFinite: PropertyKey[] | null } {
  let deeper = false;
  let nonFinite: JsonNode | undefined;
  const stack: JsonNode[] = [{ item: value, depth: 1 }];
  while (stack.length > 0 && !(deeper && nonFinite)) {
    const node = stack.pop()!;
    if (typeof node.item === 'number' && !Number.isFinite(node.item)) nonFinite ??= node;
    if (typeof node.item !== 'object' || node.item === null) continue;
    if (node.depth > maxDepth) deeper = true;
    const isArray = Array.isArray(node.item);
    // Pushed last to first, so that the number found first is the first in the document.
    const entries: [string, unknown][] = Object.entries(node.item);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i];
      stack.push({ item, depth: node.depth + 1, parent: node, key: isArray ? Number(key) : key });
    }
  }
  if (!nonFinite) return { deeper, nonFinite: null };
  const path: PropertyKey[] = [];
  for (let at: JsonNode | undefined = nonFinite; at?.parent; at = at.parent) path.unshift(at.key!);
  return { deeper, nonFinite: path };
}

const NON_FINITE_MESSAGE = 'must be a number JSON can carry (1e400 is not)';

const withinFourDigitYears = (at: Date) => at.getUTCFullYear() >= 0 && at.getUTCFullYear() <= 9999;

export const eventInputSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"')
    .optional(),
  type: eventTypeSchema,
  data: z.record(z.string(), z.unknown()).superRefine((data, ctx) => {
    const { deeper, nonFinite } = inspectJson(data, MAX_DATA_DEPTH);
    if (deeper) ctx.addIssue({ code: 'custom', message: `must not nest objects and arrays more than ${MAX_DATA_DEPTH} levels deep` });
    if (nonFinite) ctx.addIssue({ code: 'custom', path: nonFinite, message: NON_FINITE_MESSAGE });
  }),
  subject: z.strictObject({ type: shortText, id: shortText }).optional(),
  actor: shortText.optional(),
  source: shortText.optional(),
  parentId: shortText.optional(),
  correlationId: shortText.optional(),
  occurredAt: z.iso
    .datetime({ offset: true })
    // Stored and shown in UTC: 9999-12-31T23:30:00-01:00 is in year 10000, which RFC 3339 cannot write.
    .refine((at) => withinFourDigitYears(new Date(at)), { message: 'must fall within the years 0000-9999 in UTC' })
    .optional(),
});
export type EventInput = z.infer<typeof eventInputSchema>;

/**
 * Whether `value` has its own `__proto__` key (as `JSON.parse` makes one), which zod's record
 * rebuilds key by key and drops without a word: such a key is refused instead.
 */
const hasProtoKey = (value: unknown): boolean => typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__');

/** A `__proto__` key at the top of `data` (deeper ones are kept as sent: nothing rebuilds them). */
function refuseTopLevelProto(value: unknown, ctx: z.RefinementCtx): unknown {
  if (hasProtoKey((value as { data?: unknown } | null)?.data)) {
    ctx.addIssue({ code: 'custom', path: ['data', '__proto__'], message: 'a key named "__proto__" cannot be kept at the top of data' });
  }
  return value;
}

/**
 * An event as a client may send it: `eventInputSchema` without what is Herald's own. Herald's
 * audit events have `herald.*` types and ids it derives from what changed (`herald:<key id>:revoked`,
 * a digest's `digest:<subscription id>:<window>:<n>`):
 * a client sending such an id first would have the real one dropped as its duplicate, and one
 * sending such a type would reach `herald.*` subscribers as if Herald had said it. `export` is
 * the path of `GET /v1/events/export`, where an event of that id could never be read.
 * (A preview may render a `herald.*` event: it delivers nothing.)
 */
export const ingestedEventSchema = z.preprocess(refuseTopLevelProto, eventInputSchema).superRefine((event, ctx) => {
  if (event.type === 'herald' || event.type.startsWith('herald.')) {
    ctx.addIssue({ code: 'custom', path: ['type'], message: 'herald.* types are reserved for the events Herald emits itself' });
  }
  if (event.id && /^(herald|digest):/.test(event.id)) {
    ctx.addIssue({
      code: 'custom',
      path: ['id'],
      message: 'ids starting with "herald:" or "digest:" are reserved for the events Herald emits itself',
    });
  } else if (event.id === 'export') {
    ctx.addIssue({ code: 'custom', path: ['id'], message: '"export" is reserved: GET /v1/events/export is the export' });
  } else if (event.id === '.' || event.id === '..') {
    // URLs drop them as path segments (even as %2E): /v1/events/.. is /v1/, where the event could never be read or steered.
    ctx.addIssue({ code: 'custom', path: ['id'], message: '"." and ".." cannot be ids: URLs drop them as path segments' });
  }
});

export const MAX_BATCH = 500;
/** The largest request body the API reads (413 beyond it): `POST /v1/events`'s batch included. */
export const MAX_BODY_BYTES = 256 * 1024;
export const eventBatchSchema = z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) });

/** An event as stored and delivered: id and occurredAt always present. */
export const eventSchema = eventInputSchema.extend({
  id: z.string(),
  occurredAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
});
export type HeraldEvent = z.infer<typeof eventSchema>;

export const acceptedEventSchema = z.object({
  id: z.string(),
  workflowId: z.string(),
  duplicate: z.boolean(),
  error: z.string().optional(),
});

/** The answer to a batch: one result per input event, in input order. */
export const acceptedBatchSchema = z.object({ results: z.array(acceptedEventSchema) });

/**
 * The answer to a batch sent with `Prefer: respond-async`: the workflow run that holds it (its
 * id is one of the tenant's slots, which later batches reuse), and each event's own workflow id,
 * in input order (whether an id was used before is not known yet).
 */
export const acceptedLaterBatchSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  results: z.array(acceptedEventSchema.pick({ id: true, workflowId: true })),
});
export type AcceptedLaterBatch = z.infer<typeof acceptedLaterBatchSchema>;

/** An item of `GET /v1/events`: the stored event with its current status. */
export const eventListItemSchema = eventSchema.extend({ status: z.enum(EVENT_STATUSES) });

/** The body a webhook subscriber receives (docs/api.md section 4); a digest sends an array of them. */
export const webhookPayloadSchema = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
  subject: z.object({ type: z.string(), id: z.string() }).optional(),
  actor: z.string().optional(),
  correlationId: z.string().optional(),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

export const eventTypePatternSchema = z
  .string()
  .max(256)
  .refine((p) => p === '*' || EVENT_TYPE_PATTERN.test(p.endsWith('.*') ? p.slice(0, -2) : p), {
    message: 'must be "*", an event type like "a.b", or a prefix pattern like "a.*"',
  });

/** Header names Herald sets itself; a subscription may not override them. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'user-agent', 'connection', 'transfer-encoding']);
/**
 * Header names Herald's HTTP client (undici) refuses on every request: saved, each would fail
 * every attempt of the subscription's deliveries until it was disabled.
 */
const UNSENDABLE_HEADERS = new Set(['expect', 'keep-alive', 'upgrade']);
const headersSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be a valid HTTP header name')
      .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()) && !n.toLowerCase().startsWith('webhook-'), {
        message: 'is set by Herald and cannot be overridden',
      })
      .refine((n) => !UNSENDABLE_HEADERS.has(n.toLowerCase()), {
        message: 'cannot be sent: it asks for a connection behaviour a webhook request does not have',
      }),
    z
      .string()
      .max(1024)
      .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain control characters'),
  )
  .refine((h) => Object.keys(h).length <= 20, { message: 'at most 20 headers' });

export const secretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be "whsec_" followed by base64')
  .refine((s) => {
    const bytes = Buffer.from(s.slice(6), 'base64').length;
    return bytes >= 24 && bytes <= 64;
  }, 'the base64 part must decode to 24-64 bytes');

const urlSchema = z
  .string()
  .max(2048)
  .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), {
    message: 'must be an absolute http or https URL',
  })
  // Credentials in a URL end up in logs and audits, and `http://allowed@10.0.0.1/` misleads readers.
  .refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), {
    message: 'must not contain credentials (user:password@); send them in a header',
  });

export const retrySchema = z.strictObject({
  schedule: z.array(z.string().regex(DURATION_PATTERN, 'must be a duration like "5s", "5m", "2h"')).max(20).optional(),
  maxAttempts: z.number().int().min(1).max(50).optional(),
});

/** A Mustache template of an email part, refused at save time when it does not compile. */
const templateSchema = (part: TemplatePart, max: number) =>
  text(max).superRefine((template, ctx) => {
    const problem = templateProblem(part, template);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const digestSchema = z.strictObject({
  every: z
    .string()
    .regex(DURATION_PATTERN, 'must be a duration like "30s", "1h", "1d"')
    .refine((d) => {
      if (!DURATION_PATTERN.test(d)) return true; // reported by the pattern above
      const ms = parseDuration(d);
      return ms >= DIGEST_MIN_WINDOW_MS && ms <= DIGEST_MAX_WINDOW_MS;
    }, 'must be between 1s and 7d'),
  maxEvents: z.number().int().min(1).max(DIGEST_MAX_EVENTS).optional(),
});
export type DigestSettings = z.infer<typeof digestSchema>;

/**
 * A subscription's filter (src/domain/filter.ts), refused at save time with the path of each
 * wrong part. A number JSON cannot carry is refused first: stored, 1e400 became null, another
 * filter than the one checked (`$lt: null`, which failed to compile in the worker and stopped
 * the tenant's matching). A top-level `__proto__` key, which zod's record drops without a word
 * (a filter of it alone became `{}`, passing everything), is refused too.
 */
const filterSchema = z
  .preprocess(
    // Typed as what it takes, so the client's types still say a filter is an object.
    (value: Record<string, unknown>, ctx) => {
      if (hasProtoKey(value)) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: `is not a field of an event; fields are ${FIELDS_HELP}` });
      }
      return value;
    },
    z.record(z.string(), z.unknown()),
  )
  .superRefine((filter, ctx) => {
    const { nonFinite } = inspectJson(filter, Infinity);
    if (nonFinite) return ctx.addIssue({ code: 'custom', path: nonFinite, message: NON_FINITE_MESSAGE });
    for (const { path, message } of filterProblems(filter)) ctx.addIssue({ code: 'custom', path, message });
  })
  .describe(
    'only events passing it are delivered: fields data.<path>, subject.type, subject.id, actor, source, type; operators $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $and, $or, $not; a bare value means $eq (docs/api.md, "Filters")',
  );

/** A broker channel's target; its shape depends on the channel, so it is checked beside it (`brokerTargetIssues`). */
const brokerTargetField = z
  .record(z.string(), z.unknown())
  .optional()
  .describe(
    'rabbitmq: {url: "amqp://user:pass@host:5672/vhost", exchange, routingKey?}; nats: {url: "nats://host:4222", subject}; redis: {url: "redis://host:6379/0", stream, maxLen?}; mqtt: {url: "mqtt://host:1883", topic}. Credentials in the URL are sealed at rest and shown as *** (docs/api.md section 7)',
  );

/** The problems of a broker target for its channel, each with its path from the subscription. */
export function brokerTargetIssues(channel: string, target: unknown): { path: (string | number)[]; message: string }[] {
  if (!isBrokerChannel(channel)) return [];
  const parsed = BROKER_TARGET_SCHEMAS[channel].safeParse(target);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) => {
    const path = ['target', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    return issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...path, key], message: `unknown field for channel "${channel}"` }))
      : [{ path, message: issue.message }];
  });
}

const subscriptionFields = {
  name: text(200).optional(),
  eventTypes: z.array(eventTypePatternSchema).min(1).max(100),
  filter: filterSchema.optional(),
  url: urlSchema.optional(),
  to: z.array(z.email()).min(1).max(50).optional(),
  subject: templateSchema('subject', 1000).optional().describe('email: Mustache template of the subject line'),
  body: templateSchema('text', 20_000).optional().describe('email: Mustache template of the text part'),
  html: templateSchema('html', 50_000)
    .optional()
    .describe('email: Mustache template of the HTML part; values are HTML-escaped, so {{{…}}} and {{&…}} are refused'),
  digest: digestSchema.optional().describe('collect matching events and send them as one message per window (or per maxEvents)'),
  headers: headersSchema.optional(),
  format: z
    .enum(WEBHOOK_FORMATS)
    .optional()
    .describe(
      "webhook: the body's format: standard (Herald's payload, the default), or a slack, discord or teams incoming-webhook message",
    ),
  template: templateSchema('chat', 20_000)
    .optional()
    .describe(
      "webhook: Mustache template of a chat format's text, replacing its default; values are escaped, so {{{…}}} and {{&…}} are refused",
    ),
  target: brokerTargetField,
  retry: retrySchema.optional(),
  timeoutMs: z.number().int().min(100).max(60_000).optional(),
  rateLimitPerSecond: z.number().int().min(1).max(10_000).optional(),
  active: z.boolean().optional(),
};

export const subscriptionCreateSchema = z
  .strictObject({
    ...subscriptionFields,
    channel: z.enum(CHANNEL_NAMES),
    secret: secretSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const required = REQUIRED_TARGET_FIELD[s.channel];
    if (s[required] === undefined) ctx.addIssue({ code: 'custom', path: [required], message: `is required for channel "${s.channel}"` });
    for (const { field, owner } of foreignTargetFields(s.channel, s)) {
      ctx.addIssue({ code: 'custom', path: [field], message: `applies to channel "${owner}" only` });
    }
    if (s.target !== undefined) for (const issue of brokerTargetIssues(s.channel, s.target)) ctx.addIssue({ code: 'custom', ...issue });
  });
export type SubscriptionCreate = z.infer<typeof subscriptionCreateSchema>;

/** A patch may also remove a subscription's filter, digest or templates with `null`. */
export const subscriptionPatchSchema = z.strictObject({
  ...subscriptionFields,
  eventTypes: subscriptionFields.eventTypes.optional(),
  filter: filterSchema.nullable().optional(),
  subject: subscriptionFields.subject.unwrap().nullable().optional(),
  body: subscriptionFields.body.unwrap().nullable().optional(),
  html: subscriptionFields.html.unwrap().nullable().optional(),
  template: subscriptionFields.template.unwrap().nullable().optional(),
  digest: digestSchema.nullable().optional(),
});
export type SubscriptionPatch = z.infer<typeof subscriptionPatchSchema>;

export const subscriptionSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  eventTypes: z.array(z.string()),
  filter: z.record(z.string(), z.unknown()).optional(),
  channel: z.enum(CHANNEL_NAMES),
  url: z.string().optional(),
  to: z.array(z.string()).optional(),
  subject: z.string().optional(),
  body: z.string().optional(),
  html: z.string().optional(),
  digest: digestSchema.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  format: z.enum(WEBHOOK_FORMATS).optional().describe("webhook: the body's format"),
  template: z.string().optional().describe("webhook: Mustache template of a chat format's text"),
  target: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('rabbitmq, nats, redis, mqtt: where it publishes; credentials in its url shown as ***'),
  retry: retrySchema.optional(),
  timeoutMs: z.number(),
  rateLimitPerSecond: z.number().optional(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  disabledAt: z.string().optional(),
  disabledReason: z.string().optional(),
  secret: z.string().optional().describe('shown only on create and rotate'),
});

const limitSchema = z.coerce.number().int().min(1).max(200).default(50);
const timeSchema = z.iso.datetime({ offset: true });

export const listQuerySchema = z.strictObject({ limit: limitSchema, cursor: z.string().max(512).optional() });

export const eventListQuerySchema = z.strictObject({
  type: z
    .string()
    .max(256)
    .refine((t) => EVENT_TYPE_PATTERN.test(t.endsWith('.*') ? t.slice(0, -2) : t), 'must be an event type or "prefix.*"')
    .optional(),
  subjectType: shortText.optional(),
  subjectId: shortText.optional(),
  actor: shortText.optional(),
  correlationId: shortText.optional(),
  status: z.enum(EVENT_STATUSES).optional(),
  since: timeSchema.optional(),
  until: timeSchema.optional(),
  open: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe(
      'true: events no "*.completed" or "*.failed" event names as its parent yet (opened, never closed); false: those that one does',
    ),
  q: text(100).optional().describe('case-insensitive text found in the type, the subject type or id, or the actor'),
  limit: limitSchema,
  cursor: z.string().max(512).optional(),
});
export type EventListQuery = z.infer<typeof eventListQuerySchema>;

/** `GET /v1/events/export`: the list's filters, without paging, and what to include with each event. */
export const EXPORT_INCLUDES = ['deliveries', 'attempts'] as const;
export const eventExportQuerySchema = eventListQuerySchema.omit({ limit: true, cursor: true }).extend({
  include: z
    .string()
    .max(64)
    .transform((v, ctx) => {
      const parts = v.split(',').filter(Boolean);
      for (const p of parts) {
        if (!(EXPORT_INCLUDES as readonly string[]).includes(p))
          ctx.addIssue({ code: 'custom', message: `"${p}" is not one of ${EXPORT_INCLUDES.join(', ')}` });
      }
      return parts as (typeof EXPORT_INCLUDES)[number][];
    })
    .optional()
    .describe('comma-separated: deliveries, attempts'),
});
export type EventExportQuery = z.infer<typeof eventExportQuerySchema>;
/** The filters shared by the list and the export. */
export type EventFilterQuery = Omit<EventListQuery, 'limit' | 'cursor'>;

/** `PUT /v1/event-types/{type}`: what the type means, and optionally a JSON Schema its `data` must satisfy. */
export const MAX_EVENT_TYPE_SCHEMA_BYTES = 64 * 1024;
export const eventTypePutSchema = z.strictObject({
  description: text(1000),
  schema: z
    .record(z.string(), z.unknown())
    // Checked in this order: the size is measured by writing the schema, which a deep one breaks,
    // and a number JSON cannot carry would be stored as null, another schema than the one checked.
    .superRefine((s, ctx) => {
      const { deeper, nonFinite } = inspectJson(s, MAX_DATA_DEPTH);
      if (deeper) ctx.addIssue({ code: 'custom', message: `must not nest more than ${MAX_DATA_DEPTH} levels deep` });
      else if (nonFinite) ctx.addIssue({ code: 'custom', path: nonFinite, message: NON_FINITE_MESSAGE });
      else if (JSON.stringify(s).length > MAX_EVENT_TYPE_SCHEMA_BYTES) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_EVENT_TYPE_SCHEMA_BYTES} bytes as JSON` });
      }
    })
    .optional()
    .describe('a JSON Schema (draft 2020-12, or draft-07 when its "$schema" says so) for the event\'s `data`'),
});
export type EventTypePut = z.infer<typeof eventTypePutSchema>;

export const eventTypeViewSchema = z.object({
  type: z.string(),
  description: z.string(),
  schema: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type EventTypeView = z.infer<typeof eventTypeViewSchema>;

/** `GET /v1/ingest-log`: ingestion requests, accepted (202) and refused, newest first. */
export const ingestLogQuerySchema = z.strictObject({
  status: z.coerce.number().int().min(200).max(599).optional().describe('the HTTP status answered: 202 for accepted requests'),
  since: timeSchema.optional(),
  until: timeSchema.optional(),
  limit: limitSchema,
  cursor: z.string().max(512).optional(),
});
export type IngestLogQuery = z.infer<typeof ingestLogQuerySchema>;

export const ingestLogEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  keyId: z.string(),
  method: z.string(),
  route: z.string(),
  status: z.number(),
  problem: z.unknown().describe('a refusal\'s answer as sent: problem+json, or a batch\'s per-item results; "" when accepted'),
  body: z.string().describe('a refused request body as received, cut at 16 KiB; "" when accepted (its events hold it)'),
  bodyBytes: z.number(),
  truncated: z.boolean(),
  eventIds: z.array(z.string()).describe('the events the request was accepted for (a 503 batch: the items started)'),
});

/**
 * `POST /v1/events/purge`: exactly one selection (a conversation, a resource, or a time window
 * with an optional type), so that no request empties the audit by accident.
 */
export const purgeSchema = z
  .strictObject({
    correlationId: shortText.optional(),
    subjectType: shortText.optional(),
    subjectId: shortText.optional(),
    since: timeSchema.optional(),
    until: timeSchema.optional(),
    type: eventListQuerySchema.shape.type,
  })
  .superRefine((p, ctx) => {
    const selections = [
      p.correlationId !== undefined,
      p.subjectType !== undefined || p.subjectId !== undefined,
      p.since !== undefined || p.until !== undefined,
    ];
    const chosen = selections.filter(Boolean).length;
    if (chosen !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of: correlationId; subjectType and subjectId; since and until (with an optional type)',
      });
      return;
    }
    if (selections[1] && (!p.subjectType || !p.subjectId))
      ctx.addIssue({
        code: 'custom',
        path: [p.subjectType ? 'subjectId' : 'subjectType'],
        message: 'is required with the other subject field',
      });
    if (selections[2] && (!p.since || !p.until))
      ctx.addIssue({ code: 'custom', path: [p.since ? 'until' : 'since'], message: 'is required with the other end of the window' });
    if (p.since && p.until && Date.parse(p.until) < Date.parse(p.since))
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must not be before "since"' });
    if (p.type && !selections[2]) ctx.addIssue({ code: 'custom', path: ['type'], message: 'applies to a time window only' });
  });
export type PurgeInput = z.infer<typeof purgeSchema>;

export const CONTROL_ACTIONS = ['cancel', 'retry'] as const;
export const controlActionSchema = z.object({
  action: z.enum(CONTROL_ACTIONS),
  by: z
    .string()
    .describe(
      '"key:<api key id>" for the HTTP API, "temporal" for a signal sent in Temporal, "herald" for its own wake-up of a disabled or deleted subscription',
    ),
  at: z.string(),
});
export type ControlAction = z.infer<typeof controlActionSchema>;

export const deliveryViewSchema = z.object({
  subscriptionId: z.string(),
  channel: z.enum(CHANNEL_NAMES),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number(),
  lastAttemptAt: z.string().nullable(),
  lastResponseStatus: z.number().nullable(),
  nextAttemptAt: z.string().nullable(),
  error: z.string().nullable(),
  messageId: z.string().describe('the webhook-id (email: the Message-ID before its @): the same on every retry, new on a replay'),
  workflowId: z.string().describe('the run that delivers it: the event workflow or one of its replays'),
  actions: z.array(controlActionSchema).describe('cancel and retry requests, and who sent them'),
});
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

/**
 * An event with the deliveries its run opened: what the workflow's `status` query and result
 * show. `GET /v1/events/{id}` answers `eventDetailSchema`, which adds what the audit records
 * beside them.
 */
export const eventViewSchema = z.object({
  event: eventSchema,
  status: z.enum(EVENT_STATUSES),
  deliveries: z.array(deliveryViewSchema),
});
export type EventView = z.infer<typeof eventViewSchema>;

/** `GET /v1/events/{id}`: the event's view with what only the audit knows. */
export const eventDetailSchema = eventViewSchema.extend({
  filteredOut: z
    .array(z.string())
    .describe("the subscriptions whose event types matched but whose filter did not when the event's own run opened it"),
});
export type EventDetail = z.infer<typeof eventDetailSchema>;

export const attemptViewSchema = z.object({
  subscriptionId: z.string(),
  attempt: z.number(),
  startedAt: z.string(),
  durationMs: z.number(),
  request: z.object({
    url: z.string().describe("the webhook's URL, the SMTP relay, or the broker's URL with its credentials shown as ***"),
    headers: z.record(z.string(), z.string()),
    destination: z
      .record(z.string(), z.string())
      .optional()
      .describe('brokers: where the message was published (exchange and routing key, subject, stream, topic)'),
  }),
  response: z
    .object({ status: z.number().nullable().describe('the HTTP status or SMTP reply code; null for a broker'), body: z.string() })
    .nullable()
    .describe("the receiver's answer; for a broker its acknowledgement or the reason it refused the message"),
  error: z.string().nullable(),
  traceId: z
    .string()
    .nullable()
    .describe('the OpenTelemetry trace id of the attempt (the trace its event was ingested in); null when the worker does not trace'),
});
export type AttemptView = z.infer<typeof attemptViewSchema>;

/** The answer to cancel and retry: the workflows that were told. */
export const signalledWorkflowsSchema = z.object({ workflowIds: z.array(z.string()) });

/** The answer to replay and recover: the workflow that was started. */
export const startedWorkflowSchema = z.object({ workflowId: z.string() });

/** `POST /v1/subscriptions/{id}/test`: the ping's outcome (200), or only its workflow when it takes too long (202). */
export const subscriptionTestResultSchema = z.object({
  eventId: z.string(),
  workflowId: z.string(),
  status: z.enum(DELIVERY_STATUSES).or(z.literal('delivering')),
  delivery: deliveryViewSchema.nullable().optional(),
  attempt: attemptViewSchema.nullable().optional(),
});

export const MAX_TREE_DEPTH = 10;
export const treeQuerySchema = z.strictObject({ depth: z.coerce.number().int().min(1).max(MAX_TREE_DEPTH).default(5) });

/** `GET /v1/subjects/{type}/{id}/events`: the list's paging, the resource from the path. */
export const subjectEventsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});

/** Body of `POST /v1/events/{id}/cancel|retry|replay`: one subscription, or all. */
export const deliveryControlSchema = z.strictObject({ subscriptionId: shortText.optional() });

/** Body of `POST /v1/subscriptions/{id}/preview`: the event to render, as it would be sent. */
export const previewSchema = z.strictObject({ event: eventInputSchema });

export const previewResultSchema = z.object({
  channel: z.enum(CHANNEL_NAMES),
  subject: z.string().optional().describe('email: the subject line, as sent'),
  text: z.string().optional().describe('email: the text part'),
  html: z.string().optional().describe('email: the HTML part'),
  body: z
    .unknown()
    .optional()
    .describe(
      "webhook and brokers: the JSON body (an array for a digest subscription of format standard; the service's message for a chat format)",
    ),
});
export type PreviewResult = z.infer<typeof previewResultSchema>;

export const rotateSecretSchema = z.strictObject({ secret: secretSchema.optional() });

export const recoverSchema = z
  .strictObject({ since: timeSchema, until: timeSchema.optional() })
  .refine((r) => !r.until || Date.parse(r.until) >= Date.parse(r.since), { path: ['until'], message: 'must not be before "since"' });
export type RecoverInput = z.infer<typeof recoverSchema>;

/** What an API key may do; the admin key may do everything, in tenant `default`. */
export const SCOPES = ['events:write', 'events:read', 'subscriptions:write', 'subscriptions:read', 'events:purge'] as const;
export type Scope = (typeof SCOPES)[number];

/** A tenant name is part of workflow ids (`event/{tenant}/{id}`), so it is kept plain. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A key's resource limits (src/domain/key-limits.ts): absent, the key reaches its whole tenant. */
const keyLimitFields = {
  subjects: z
    .array(z.strictObject({ type: shortText, id: shortText.optional() }))
    .min(1)
    .max(50)
    .optional()
    .describe('only events about these resources (a type, or a type and id); an event without a subject is outside'),
  eventTypes: z
    .array(eventTypePatternSchema)
    .min(1)
    .max(50)
    .optional()
    .describe('only events whose type matches one of these patterns, read as a subscription reads them ("*" leaves out herald.*)'),
};

export const apiKeyCreateSchema = z.strictObject({
  name: text(200),
  tenant: z.string().regex(TENANT_PATTERN, 'must be 1-63 of a-z, 0-9, "_" and "-", starting with a letter or digit'),
  scopes: z
    .array(z.enum(SCOPES))
    .min(1)
    .refine((s) => new Set(s).size === s.length, 'must not repeat a scope'),
  expiresAt: timeSchema
    .refine((t) => Date.parse(t) > Date.now(), 'must be in the future')
    .optional()
    .describe('from then on the key answers 401 with a problem of type …/key-expired'),
  ...keyLimitFields,
});
export type ApiKeyCreate = z.infer<typeof apiKeyCreateSchema>;

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  tenant: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  prefix: z.string().describe('the start of the key, to recognise it by'),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  ...keyLimitFields,
  key: z.string().optional().describe('shown only in the answer to create'),
});

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** What `GET /v1/me` tells the portal about a portal session (src/domain/portal-sessions.ts), so it shows only what the session may do. */
export const portalLimitsSchema = z.object({
  sessionId: z.string(),
  subscriptionIds: z.array(z.string()).optional(),
  eventTypes: z.array(z.string()).optional(),
  readOnly: z.boolean(),
  expiresAt: z.string(),
});

/** `GET /v1/me`: who the key is, so a client (the portal) shows only what the key may do. */
export const meSchema = z.object({
  keyId: z.string().describe('"admin" for the admin key'),
  tenant: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  admin: z.boolean().describe('only the admin key manages API keys'),
  expiresAt: z.string().optional().describe('absent: the key does not expire'),
  ...keyLimitFields,
  temporal: z
    .object({ uiUrl: z.string(), namespace: z.string() })
    .describe('where the Temporal Web UI shows the workflows (HERALD_TEMPORAL_UI_URL)'),
  portal: portalLimitsSchema.optional().describe('a portal session: the subscriptions it is limited to, and until when'),
});

const statusCountsSchema = z.object(
  Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, z.number()])) as Record<(typeof DELIVERY_STATUSES)[number], z.ZodNumber>,
);

const successRateSchema = z
  .number()
  .nullable()
  .describe('succeeded / (succeeded + failed + retrying) of the deliveries opened in the window; null when none was attempted');

export const subscriptionHealthSchema = z.object({
  subscriptionId: z.string(),
  since: z.string().describe('the window: the last 24 hours'),
  deliveries: statusCountsSchema,
  successRate: successRateSchema,
  lastError: z
    .object({
      eventId: z.string(),
      at: z.string().nullable(),
      responseStatus: z.number().nullable(),
      error: z.string().nullable(),
      status: z.enum(DELIVERY_STATUSES),
    })
    .nullable()
    .describe('the delivery whose last attempt failed most recently, at any time'),
  active: z.boolean(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
  failingSince: z.string().nullable().describe('first failed attempt since the last success; HERALD_DISABLE_AFTER counts from it'),
});
export type SubscriptionHealth = z.infer<typeof subscriptionHealthSchema>;

export const overviewSchema = z.object({
  since: z.string(),
  hours: z
    .array(z.object({ start: z.string(), events: z.number(), deliveries: statusCountsSchema }))
    .describe('24 whole UTC hours, oldest first; the last is the current hour. Events by occurredAt, deliveries by when they were opened'),
  failingSubscriptions: z
    .array(
      z.object({
        subscriptionId: z.string(),
        name: z.string().nullable(),
        deliveries: statusCountsSchema,
        successRate: successRateSchema,
        disabledReason: z.string().nullable(),
      }),
    )
    .describe('subscriptions with failed or retrying deliveries opened in the last 24 hours, most failures first, at most 10'),
});
export type Overview = z.infer<typeof overviewSchema>;
