import type { SubscriptionCreate, SubscriptionPatch } from '../../src/client';
import { parseOrThrow, ProblemError } from '../../src/api/problem';
import {
  deliveryControlSchema,
  eventInputSchema,
  eventListQuerySchema,
  ingestedEventSchema,
  recoverSchema,
  rotateSecretSchema,
  subscriptionCreateSchema,
  subscriptionPatchSchema,
  MAX_DATA_DEPTH,
  inspectJson,
} from '../../src/domain/schemas';

/** The distinct dotted paths of the issues a failed parse reports, e.g. ["url"] or ["headers.webhook-id"]. */
function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  if (result.success) throw new Error('expected the input to be rejected, but it was accepted');
  return [...new Set(result.error!.issues.map((i) => i.path.map(String).join('.')))];
}

/**
 * Every message of an issue, its nested issues included: zod 4 reports a failed record key
 * as "Invalid key in record" with the key schema's own issues nested inside.
 */
function messagesOf(issue: { message: string; issues?: unknown }): string[] {
  const nested = Array.isArray(issue.issues) ? (issue.issues as { message: string }[]).flatMap(messagesOf) : [];
  return [issue.message, ...nested];
}

describe('eventInputSchema', () => {
  const minimal = { type: 'package.promoted', data: {} };

  test('accepts a minimal event: a type and an object of data', () => {
    const result = eventInputSchema.safeParse(minimal);
    expect(result.success).toBe(true);
    expect(result.data).toEqual(minimal);
  });

  test('accepts a complete event', () => {
    const full = {
      id: 'evt-2025.06:01_abc',
      type: 'package.version.promoted',
      data: { package: 'herald', nested: { ok: true }, list: [1, 2] },
      subject: { type: 'package', id: 'herald' },
      actor: 'ci',
      source: 'builder',
      parentId: 'evt-parent',
      correlationId: 'corr-1',
      occurredAt: '2025-06-01T12:00:00.123+02:00',
    };
    expect(eventInputSchema.safeParse(full).success).toBe(true);
  });

  test.each(['evt 1', 'evt/1', 'evt#1', 'évt', 'a@b', ''])('rejects the id %p with characters outside A-Z a-z 0-9 . _ : -', (id) => {
    expect(issuePaths(eventInputSchema.safeParse({ ...minimal, id }))).toEqual(['id']);
  });

  test('accepts an id of exactly 128 characters and rejects one of 129', () => {
    expect(eventInputSchema.safeParse({ ...minimal, id: 'a'.repeat(128) }).success).toBe(true);
    expect(issuePaths(eventInputSchema.safeParse({ ...minimal, id: 'a'.repeat(129) }))).toEqual(['id']);
  });

  test.each(['a', 'package.promoted', 'a_b-c.d0.e', 'x.y.z.w'])('accepts the event type %p', (type) => {
    expect(eventInputSchema.safeParse({ ...minimal, type }).success).toBe(true);
  });

  test.each(['Package.Promoted', 'a..b', '.a', 'a.', '', 'a b', 'a.*', '*', 'a/b'])('rejects the event type %p', (type) => {
    expect(issuePaths(eventInputSchema.safeParse({ ...minimal, type }))).toEqual(['type']);
  });

  test.each([
    ['the type', { type: 'herald.api_key.revoked' }, 'type'],
    ['the bare type', { type: 'herald' }, 'type'],
    ['an id', { id: 'herald:key_abc:revoked' }, 'id'],
    ["a digest's id", { id: 'digest:sub_1:1764979200000:1' }, 'id'],
    ['the id "export"', { id: 'export' }, 'id'],
  ])("refuses %s reserved for Herald's own events when ingested, not when previewed", (_what, fields, path) => {
    const event = { ...minimal, ...fields };
    expect(issuePaths(ingestedEventSchema.safeParse(event))).toEqual([path]);
    expect(eventInputSchema.safeParse(event).success).toBe(true);
  });

  test('refuses a __proto__ key at the top of data, which the parse would drop, and keeps one deeper down', () => {
    const top = JSON.parse('{"type": "a.b", "data": {"__proto__": {"x": 1}, "y": 2}}');
    expect(issuePaths(ingestedEventSchema.safeParse(top))).toEqual(['data.__proto__']);
    const deeper = JSON.parse('{"type": "a.b", "data": {"a": {"__proto__": {"x": 1}}}}');
    const parsed = ingestedEventSchema.safeParse(deeper);
    expect(JSON.stringify(parsed.data)).toBe('{"type":"a.b","data":{"a":{"__proto__":{"x":1}}}}');
  });

  test('refuses data nested deeper than 100 levels, however deep, and takes 100', () => {
    /** `data` with `levels` levels: itself, then arrays and objects in turn. */
    const nested = (levels: number) => JSON.parse(`{"a":${'[{"a":'.repeat((levels - 1) / 2)}1${'}]'.repeat((levels - 1) / 2)}}`);
    expect(inspectJson(nested(99), MAX_DATA_DEPTH).deeper).toBe(false);
    expect(inspectJson({ a: [[1]] }, 2).deeper).toBe(true);
    expect(inspectJson({ a: [[1]] }, 3).deeper).toBe(false);
    expect(eventInputSchema.safeParse({ type: 'a.b', data: nested(99) }).success).toBe(true);
    expect(eventInputSchema.safeParse({ type: 'a.b', data: { b: nested(99) } }).success).toBe(true); // 100 levels
    expect(issuePaths(eventInputSchema.safeParse({ type: 'a.b', data: { b: { c: nested(99) } } }))).toEqual(['data']);
    // Past what JSON.stringify survives, and still a plain 400.
    expect(issuePaths(ingestedEventSchema.safeParse({ type: 'a.b', data: nested(200_001) }))).toEqual(['data']);
  });

  test('refuses a number JSON cannot carry anywhere in data, naming its path, and takes the largest it can', () => {
    const parsed = JSON.parse('{"type": "a.b", "data": {"amount": 1e400, "rows": [{"n": 1}, {"n": -1e999}]}}');
    expect(issuePaths(eventInputSchema.safeParse(parsed)).sort()).toEqual(['data.amount']);
    expect(inspectJson(parsed.data, MAX_DATA_DEPTH).nonFinite).toEqual(['amount']);
    expect(inspectJson({ rows: [{ n: 1 }, { n: -Infinity }] }, MAX_DATA_DEPTH).nonFinite).toEqual(['rows', 1, 'n']);
    expect(eventInputSchema.safeParse({ type: 'a.b', data: { n: Number.MAX_VALUE, m: 5e-324 } }).success).toBe(true);
  });

  test.each(['.', '..'])('refuses the id %p, which URLs drop as a path segment, and takes ids with dots in them', (id) => {
    expect(issuePaths(ingestedEventSchema.safeParse({ type: 'a.b', data: {}, id }))).toEqual(['id']);
    for (const dotted of ['...', '.a', 'a..b', 'v1.2'])
      expect(ingestedEventSchema.safeParse({ type: 'a.b', data: {}, id: dotted }).success).toBe(true);
  });

  test('refuses an occurredAt outside the years 0000-9999 in UTC, which RFC 3339 cannot write back', () => {
    for (const occurredAt of ['9999-12-31T23:30:00-01:00', '0000-01-01T00:00:00+01:00']) {
      expect(issuePaths(eventInputSchema.safeParse({ type: 'a.b', data: {}, occurredAt }))).toEqual(['occurredAt']);
    }
    for (const occurredAt of ['9999-12-31T23:30:00+01:00', '0000-01-01T00:30:00-00:30', '2026-12-07T03:00:00Z']) {
      expect(eventInputSchema.safeParse({ type: 'a.b', data: {}, occurredAt }).success).toBe(true);
    }
  });

  test.each(['heralds.x', 'x.herald', 'herald_x'])("ingests the type %p, which only looks like Herald's", (type) => {
    expect(ingestedEventSchema.safeParse({ ...minimal, type, id: 'heralding:1' }).success).toBe(true);
  });

  test('rejects an event type over 256 characters', () => {
    const type = `a.${'b'.repeat(255)}`;
    expect(issuePaths(eventInputSchema.safeParse({ ...minimal, type }))).toEqual(['type']);
  });

  test.each([
    ['an array', [1, 2]],
    ['null', null],
    ['a string', 'hello'],
    ['a number', 42],
  ])('rejects data that is %s', (_what, data) => {
    expect(issuePaths(eventInputSchema.safeParse({ ...minimal, data }))).toEqual(['data']);
  });

  test('rejects an event without data', () => {
    expect(issuePaths(eventInputSchema.safeParse({ type: 'a.b' }))).toEqual(['data']);
  });

  test('rejects an event without a type', () => {
    expect(issuePaths(eventInputSchema.safeParse({ data: {} }))).toEqual(['type']);
  });

  test('rejects unknown top-level fields (strict)', () => {
    const result = eventInputSchema.safeParse({ ...minimal, payload: {} });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['payload'] });
  });

  test('rejects unknown fields inside subject (strict)', () => {
    const result = eventInputSchema.safeParse({ ...minimal, subject: { type: 'p', id: '1', name: 'x' } });
    expect(issuePaths(result)).toEqual(['subject']);
  });

  test.each(['2025-06-01T12:00:00Z', '2025-06-01T12:00:00+02:00', '2025-06-01T12:00:00.5-05:30'])(
    'accepts the ISO 8601 datetime %p as occurredAt',
    (occurredAt) => {
      expect(eventInputSchema.safeParse({ ...minimal, occurredAt }).success).toBe(true);
    },
  );

  test.each(['2025-06-01', 'yesterday', '2025-13-01T00:00:00Z', '2025-06-01 12:00:00', 'Sun, 01 Jun 2025 12:00:00 GMT', 1748779200000])(
    'rejects %p as occurredAt',
    (occurredAt) => {
      expect(issuePaths(eventInputSchema.safeParse({ ...minimal, occurredAt }))).toEqual(['occurredAt']);
    },
  );
});

describe('subscriptionCreateSchema', () => {
  const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const webhook = { channel: 'webhook', url: 'https://hooks.example.com/herald', eventTypes: ['package.*'] };

  test('accepts a minimal webhook subscription', () => {
    expect(subscriptionCreateSchema.safeParse(webhook).success).toBe(true);
  });

  test('requires a url for the webhook channel', () => {
    const { url: _url, ...withoutUrl } = webhook;
    const result = subscriptionCreateSchema.safeParse(withoutUrl);
    expect(issuePaths(result)).toEqual(['url']);
    expect(result.error!.issues[0].message).toBe('is required for channel "webhook"');
  });

  test('requires recipients for the email channel, but no url', () => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ channel: 'email', eventTypes: ['a'] }))).toEqual(['to']);
    expect(subscriptionCreateSchema.safeParse({ channel: 'email', eventTypes: ['a'], to: ['ops@example.com'] }).success).toBe(true);
  });

  test('email templates and a digest are accepted on an email subscription and refused on a webhook one', () => {
    const email = { channel: 'email', eventTypes: ['a'], to: ['ops@example.com'] };
    const extras = { subject: '{{type}}', body: 'Hi {{actor}}', html: '<b>{{actor}}</b>' };
    expect(subscriptionCreateSchema.safeParse({ ...email, ...extras, digest: { every: '1d', maxEvents: 100 } }).success).toBe(true);
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, ...extras, to: ['a@example.com'] }))).toEqual([
      'to',
      'subject',
      'body',
      'html',
    ]);
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...email, url: 'https://x.example.com/', headers: { 'x-a': 'b' } }))).toEqual([
      'url',
      'headers',
    ]);
  });

  test.each([
    [{ every: '500ms' }, 'digest.every'],
    [{ every: '8d' }, 'digest.every'],
    [{ every: 'hourly' }, 'digest.every'],
    [{ every: '1h', maxEvents: 1001 }, 'digest.maxEvents'],
    [{ every: '1h', extra: 1 }, 'digest'],
  ])('refuses the digest %p at %p', (digest, path) => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, digest }))).toEqual([path]);
  });

  test.each(['http://hooks.example.com/', 'https://hooks.example.com:8443/a?b=c'])('accepts the http(s) URL %p', (url) => {
    expect(subscriptionCreateSchema.safeParse({ ...webhook, url }).success).toBe(true);
  });

  test.each([
    'ftp://files.example.com/hook',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'hooks.example.com/path',
    '/relative',
    'not a url',
  ])('rejects the non-http(s) or relative URL %p', (url) => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, url }))).toEqual(['url']);
  });

  test('rejects a URL over 2048 characters', () => {
    const url = `https://example.com/${'a'.repeat(2048)}`;
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, url }))).toEqual(['url']);
  });

  test.each(['*', 'a.*', 'a.b', 'a', 'a.b.*'])('accepts the event type pattern %p', (pattern) => {
    expect(subscriptionCreateSchema.safeParse({ ...webhook, eventTypes: [pattern] }).success).toBe(true);
  });

  test.each(['a.*.b', '*.a', 'a*', '.*', 'a.**', 'A.b', ''])('rejects the event type pattern %p', (pattern) => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, eventTypes: [pattern] }))).toEqual(['eventTypes.0']);
  });

  test('requires at least one event type pattern', () => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, eventTypes: [] }))).toEqual(['eventTypes']);
  });

  test('accepts custom headers that Herald does not set itself', () => {
    const headers = { Authorization: 'Bearer abc', 'X-Tenant': 'acme' };
    expect(subscriptionCreateSchema.safeParse({ ...webhook, headers }).success).toBe(true);
  });

  test.each([
    'content-type',
    'Content-Type',
    'content-length',
    'host',
    'User-Agent',
    'webhook-id',
    'Webhook-Signature',
    'webhook-timestamp',
  ])('rejects the reserved header %p', (name) => {
    const result = subscriptionCreateSchema.safeParse({ ...webhook, headers: { [name]: 'x' } });
    expect(issuePaths(result)).toEqual([`headers.${name}`]);
    expect(messagesOf(result.error!.issues[0])).toContain('is set by Herald and cannot be overridden');
  });

  test.each(['Expect', 'keep-alive', 'Upgrade'])('rejects the header %p, which the HTTP client would refuse at every attempt', (name) => {
    const result = subscriptionCreateSchema.safeParse({ ...webhook, headers: { [name]: '100-continue' } });
    expect(issuePaths(result)).toEqual([`headers.${name}`]);
    expect(messagesOf(result.error!.issues[0])).toContain(
      'cannot be sent: it asks for a connection behaviour a webhook request does not have',
    );
  });

  test('rejects a header value with a control character (header injection)', () => {
    const headers = { 'X-Tenant': 'acme\r\nX-Injected: 1' };
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, headers }))).toEqual(['headers.X-Tenant']);
  });

  test('rejects an invalid header name', () => {
    const result = subscriptionCreateSchema.safeParse({ ...webhook, headers: { 'X Tenant': 'a' } });
    expect(issuePaths(result)).toEqual(['headers.X Tenant']);
    expect(messagesOf(result.error!.issues[0])).toContain('must be a valid HTTP header name');
  });

  test('rejects more than 20 headers', () => {
    const headers = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']));
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, headers }))).toEqual(['headers']);
    delete headers['X-H20'];
    expect(subscriptionCreateSchema.safeParse({ ...webhook, headers }).success).toBe(true);
  });

  test('accepts a whsec_ secret whose base64 part decodes to 24-64 bytes', () => {
    for (const bytes of [24, 32, 64]) {
      const s = `whsec_${Buffer.alloc(bytes, 9).toString('base64')}`;
      expect(subscriptionCreateSchema.safeParse({ ...webhook, secret: s }).success).toBe(true);
    }
    expect(subscriptionCreateSchema.safeParse({ ...webhook, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).success).toBe(true);
  });

  test.each([
    ['has no whsec_ prefix', Buffer.alloc(32, 1).toString('base64')],
    ['has another prefix', `sk_${Buffer.alloc(32, 1).toString('base64')}`],
    ['is not base64 after the prefix', 'whsec_not-base64!!'],
    ['decodes to fewer than 24 bytes', `whsec_${Buffer.alloc(23, 1).toString('base64')}`],
    ['decodes to more than 64 bytes', `whsec_${Buffer.alloc(65, 1).toString('base64')}`],
  ])('rejects a secret that %s', (_what, bad) => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, secret: bad }))).toEqual(['secret']);
  });

  test('accepts a valid retry policy and rejects a malformed duration or maxAttempts', () => {
    expect(subscriptionCreateSchema.safeParse({ ...webhook, secret, retry: { schedule: ['5s', '1m'], maxAttempts: 3 } }).success).toBe(
      true,
    );
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, retry: { schedule: ['soon'] } }))).toEqual(['retry.schedule.0']);
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, retry: { maxAttempts: 0 } }))).toEqual(['retry.maxAttempts']);
  });

  test('rejects an unknown channel and unknown fields', () => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, channel: 'sms' }))).toEqual(['channel']);
    const result = subscriptionCreateSchema.safeParse({ ...webhook, callback: 'x' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['callback'] });
  });
});

describe('subscription filters', () => {
  const webhook = { channel: 'webhook', url: 'https://hooks.example.com/herald', eventTypes: ['payment.*'] };
  const filter = {
    'data.env': 'prod',
    'data.amount': { $gte: 100 },
    $or: [{ 'subject.type': { $in: ['package', 'origin'] } }, { actor: 'ci' }],
  };

  test('a valid filter is taken as given on create and on update', () => {
    expect(subscriptionCreateSchema.parse({ ...webhook, filter }).filter).toEqual(filter);
    expect(subscriptionPatchSchema.parse({ filter }).filter).toEqual(filter);
  });

  test('an update removes the filter with null; a create has no filter to remove', () => {
    expect(subscriptionPatchSchema.parse({ filter: null })).toEqual({ filter: null });
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, filter: null }))).toEqual(['filter']);
  });

  test('an unknown operator is a 400 whose problem names its path', () => {
    const body = { ...webhook, filter: { 'data.amount': { $gte: 100, $regex: '^1' } } };
    let problem: unknown;
    try {
      parseOrThrow(subscriptionCreateSchema, body);
    } catch (err) {
      problem = err;
    }
    expect(problem).toBeInstanceOf(ProblemError);
    expect(problem).toMatchObject({
      status: 400,
      errors: [{ path: 'filter.data.amount.$regex', message: expect.stringMatching(/^is not an operator; a field takes \$eq/) }],
    });
  });

  test("the client's types say a filter is an object (the check of __proto__ before the record keeps its input type)", () => {
    // @ts-expect-error a filter is an object, not text
    const text: SubscriptionCreate['filter'] = 'data.env=prod';
    // @ts-expect-error the same for an update
    const patch: SubscriptionPatch = { filter: 'data.env=prod' };
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, filter: text }))).toEqual(['filter']);
    expect(issuePaths(subscriptionPatchSchema.safeParse(patch))).toEqual(['filter']);
  });

  test('a number JSON cannot carry, and a top-level __proto__ key, are refused with their paths, as a body brings them', () => {
    // As express.json reads them: 1e400 is Infinity, and __proto__ an own key.
    const parsed = (text: string) => subscriptionPatchSchema.safeParse(JSON.parse(text));
    expect(issuePaths(parsed('{"filter": {"data.amount": {"$lt": 1e400}}}'))).toEqual(['filter.data.amount.$lt']);
    expect(issuePaths(parsed('{"filter": {"$or": [{"data.a": -1e400}]}}'))).toEqual(['filter.$or.0.data.a']);
    expect(issuePaths(parsed('{"filter": {"__proto__": {"data.env": "prod"}}}'))).toEqual(['filter.__proto__']);
    expect(
      issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, filter: JSON.parse('{"data.env": "prod", "__proto__": 1}') })),
    ).toEqual(['filter.__proto__']);
  });

  test('a malformed part is named by its path, inside $and, $or and $not too, on create and on update', () => {
    const malformed = { $or: [{ actor: 'ci' }, { $not: { 'data.tags': { $in: 'urgent' } } }] };
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, filter: malformed }))).toEqual(['filter.$or.1.$not.data.tags.$in']);
    expect(issuePaths(subscriptionPatchSchema.safeParse({ filter: malformed }))).toEqual(['filter.$or.1.$not.data.tags.$in']);
    expect(issuePaths(subscriptionPatchSchema.safeParse({ filter: { colour: 'red', 'data.a': { $gt: false } } }))).toEqual([
      'filter.colour',
      'filter.data.a.$gt',
    ]);
  });

  test.each([
    ['a list', [{ actor: 'ci' }]],
    ['a string', '{"actor": "ci"}'],
    ['too deep', JSON.parse('{"data.a": ' + '['.repeat(20) + ']'.repeat(20) + '}')],
    ['too long', { 'data.a': 'x'.repeat(20_000) }],
  ])('a filter that is %s is refused at "filter"', (_what, bad) => {
    expect(issuePaths(subscriptionCreateSchema.safeParse({ ...webhook, filter: bad }))).toEqual(['filter']);
  });
});

describe('eventListQuerySchema', () => {
  test('defaults the limit to 50', () => {
    expect(eventListQuerySchema.parse({})).toEqual({ limit: 50 });
  });

  test('coerces a query-string limit to a number', () => {
    expect(eventListQuerySchema.parse({ limit: '20' }).limit).toBe(20);
    expect(eventListQuerySchema.parse({ limit: '1' }).limit).toBe(1);
    expect(eventListQuerySchema.parse({ limit: '200' }).limit).toBe(200);
  });

  test.each(['201', '0', '-1', '1.5', 'ten'])('rejects the limit %p', (limit) => {
    expect(issuePaths(eventListQuerySchema.safeParse({ limit }))).toEqual(['limit']);
  });

  test('rejects unknown query parameters', () => {
    const result = eventListQuerySchema.safeParse({ limit: '10', sort: 'desc' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['sort'] });
  });

  test('accepts an exact type or a prefix pattern as the type filter, but not "*" or a bad type', () => {
    expect(eventListQuerySchema.safeParse({ type: 'package.promoted' }).success).toBe(true);
    expect(eventListQuerySchema.safeParse({ type: 'package.*' }).success).toBe(true);
    for (const type of ['*', 'a.*.b', 'Package']) {
      expect(issuePaths(eventListQuerySchema.safeParse({ type }))).toEqual(['type']);
    }
  });

  test('accepts a known event status and ISO datetimes for since/until, and rejects others', () => {
    expect(eventListQuerySchema.safeParse({ status: 'failed', since: '2025-06-01T00:00:00Z', until: '2025-06-02T00:00:00Z' }).success).toBe(
      true,
    );
    expect(issuePaths(eventListQuerySchema.safeParse({ status: 'succeeded' }))).toEqual(['status']);
    expect(issuePaths(eventListQuerySchema.safeParse({ since: '2025-06-01' }))).toEqual(['since']);
  });
});

describe('control bodies', () => {
  test('cancel, retry and replay take an optional subscriptionId and nothing else', () => {
    expect(deliveryControlSchema.safeParse({}).success).toBe(true);
    expect(deliveryControlSchema.safeParse({ subscriptionId: 'sub_1' }).success).toBe(true);
    expect(deliveryControlSchema.safeParse({ subscriptionId: '' }).success).toBe(false);
    expect(deliveryControlSchema.safeParse({ subscription: 'sub_1' }).success).toBe(false);
  });

  test('recover needs an RFC 3339 since, and until may not come before it', () => {
    expect(recoverSchema.safeParse({ since: '2026-01-01T00:00:00Z' }).success).toBe(true);
    expect(recoverSchema.safeParse({ since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00+02:00' }).success).toBe(true);
    expect(recoverSchema.safeParse({}).success).toBe(false);
    expect(recoverSchema.safeParse({ since: 'yesterday' }).success).toBe(false);
    const backwards = recoverSchema.safeParse({ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' });
    expect(backwards.success).toBe(false);
    expect(backwards.error?.issues[0].path).toEqual(['until']);
  });

  test('rotate-secret takes an optional secret in the whsec_ format', () => {
    expect(rotateSecretSchema.safeParse({}).success).toBe(true);
    expect(rotateSecretSchema.safeParse({ secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }).success).toBe(true);
    expect(rotateSecretSchema.safeParse({ secret: 'plain' }).success).toBe(false);
  });
});

describe('text stored as fields', () => {
  test('NUL is refused in names and other short text, with its path', () => {
    const sub = subscriptionCreateSchema.safeParse({ channel: 'webhook', url: 'https://h.example/x', eventTypes: ['a'], name: 'a\u0000b' });
    expect(sub.success).toBe(false);
    expect(sub.error?.issues[0].path).toEqual(['name']);
    expect(eventInputSchema.safeParse({ type: 'a.b', data: {}, actor: '\u0000' }).success).toBe(false);
  });

  test('event data may be any JSON object: it is stored as text', () => {
    expect(eventInputSchema.safeParse({ type: 'a.b', data: { $gt: 1, 'a.b': [[1, [2]]], nul: 'x\u0000' } }).success).toBe(true);
  });
});
