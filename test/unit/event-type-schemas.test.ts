import { MongoNetworkError } from 'mongodb';
import { compileSchema, createEventDataValidator } from '../../src/api/event-type-schemas';
import { tenantVersionsReader } from '../../src/api/tenant-versions';
import { ProblemError } from '../../src/api/problem';
import type { Store } from '../../src/store';

/**
 * The registry's reads through a store outage. The store here is a stand-in whose reads can
 * be made to fail as an unreachable server fails them; the real outage is `make chaos`'s.
 */
function registry(schemaJson: string) {
  let down = false;
  const unreachable = () => Promise.reject(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:1'));
  const store = {
    tenantVersions: { findOne: () => (down ? unreachable() : Promise.resolve({ _id: 't', eventTypes: 1 })) },
    eventTypes: { find: () => ({ toArray: () => (down ? unreachable() : Promise.resolve([{ type: 'order.paid', schemaJson }])) }) },
  } as unknown as Store;
  return { store, stop: () => (down = true) };
}

/** Validates as ingestion does: the tenant's versions read first, then the events checked at them. */
function validatorOf(store: Store) {
  const validator = createEventDataValidator(store);
  // Every check reads the counters, as a request does once the last read is too old to answer it.
  const versionsOf = tenantVersionsReader(store, 0);
  return {
    check: async (tenant: string, events: { type: string; data: Record<string, unknown> }[]) =>
      validator.check(tenant, events, (await versionsOf(tenant))?.eventTypes),
  };
}

const schema = JSON.stringify({ type: 'object', required: ['amount'] });

test('through a store outage the schemas last read go on validating', async () => {
  const { store, stop } = registry(schema);
  const validator = validatorOf(store);
  expect(await validator.check('t', [{ type: 'order.paid', data: { amount: 1 } }])).toEqual([[]]);
  stop();
  const [issues] = await validator.check('t', [{ type: 'order.paid', data: {} }]);
  expect(issues.map((i) => i.path.join('.'))).toEqual(['data.amount']);
});

test('with no schemas read yet, an outage answers 503 with Retry-After, not an error of the server', async () => {
  const { store, stop } = registry(schema);
  stop();
  const refused = validatorOf(store).check('t', [{ type: 'order.paid', data: { amount: 1 } }]);
  await expect(refused).rejects.toBeInstanceOf(ProblemError);
  await expect(refused).rejects.toMatchObject({ status: 503 });
});

test('a schema with an $id compiles again, as its registration and every process that validates with it compile it', async () => {
  const withId = { $id: 'https://example.com/order', type: 'object', required: ['amount'] };
  const first = compileSchema(structuredClone(withId));
  const again = compileSchema(structuredClone(withId));
  expect(again({ amount: 1 })).toBe(true);
  expect(first({})).toBe(false);

  // Registered (compiled once above, as the PUT does), then events of its type are checked.
  const validator = validatorOf(registry(JSON.stringify(withId)).store);
  const [issues] = await validator.check('t', [{ type: 'order.paid', data: {} }]);
  expect(issues.map((i) => i.path.join('.'))).toEqual(['data.amount']);
});

test("a schema claiming its meta-schema's $id is refused, and leaves the meta-schema in place for the schemas after it", () => {
  for (const $schema of ['https://json-schema.org/draft/2020-12/schema', 'http://json-schema.org/draft-07/schema#']) {
    expect(() => compileSchema({ $schema, $id: $schema.replace(/#$/, ''), type: 'object' })).toThrow();
    expect(compileSchema({ $schema, type: 'object', required: ['amount'] })({})).toBe(false);
  }
});

test('a schema refused for its content leaves its $id free for the corrected one', () => {
  const $id = 'https://example.com/refused.json';
  expect(() => compileSchema({ $id, type: 'nonsense' })).toThrow();
  expect(() => compileSchema({ $id, $ref: '#/$defs/missing' })).toThrow();
  expect(compileSchema({ $id, type: 'object' })({})).toBe(true);
});

test('a registered schema that fails when applied refuses its events with a 400 that names it, not a 500', async () => {
  // Registered before PUT refused such schemas: it recurses on any data.
  const validator = validatorOf(registry(JSON.stringify({ $ref: '#' })).store);
  const [issues] = await validator.check('t', [{ type: 'order.paid', data: {} }]);
  expect(issues).toEqual([
    { path: ['data'], message: expect.stringMatching(/^cannot be checked: the schema registered for order.paid fails/) },
  ]);
});

test('patterns match in linear time: a backtracking one answers at once, for pattern and patternProperties alike', async () => {
  const validator = validatorOf(
    registry(
      JSON.stringify({
        type: 'object',
        properties: { name: { type: 'string', pattern: '^(a+)+$' } },
        patternProperties: { '^(b+)+$': { type: 'number' } },
      }),
    ).store,
  );
  // JavaScript's own engine took a minute and more for each of these, twice as long for each letter
  // more (and held the API's one thread all along); RE2 takes milliseconds.
  const timed = async (data: Record<string, unknown>) => {
    const started = Date.now();
    const [issues] = await validator.check('t', [{ type: 'order.paid', data }]);
    expect(Date.now() - started).toBeLessThan(2_000);
    return issues.map((i) => [i.path.join('.'), i.message]);
  };
  expect(await timed({ name: 'a'.repeat(32) + '!' })).toEqual([['data.name', 'must match pattern "^(a+)+$"']]);
  expect(await timed({ ['b'.repeat(32) + '!']: 'any', bbb: 'not a number' })).toEqual([['data.bbb', 'must be number']]);
  expect(await timed({ name: 'aaa', bbb: 1 })).toEqual([]);
});

test('a pattern the linear engine cannot run (lookaround, backreference) is refused when the schema is compiled', () => {
  for (const pattern of ['^(?=a)a$', '^(a)\\1$']) {
    expect(() => compileSchema({ type: 'string', pattern })).toThrow(/parsing regexp/);
  }
  expect(compileSchema({ type: 'string', pattern: '^\\p{L}+ \\d+\\.\\d+$' })('héllo 1.2')).toBe(true);
});

test("a pattern keeps JavaScript's syntax: its escapes work, RE2's own are refused, and so is one too large to match in linear time", () => {
  const printable = compileSchema({ type: 'string', pattern: '^[\\u0020-\\u007E]*$' });
  expect([printable('plain ~text'), printable('tab\there')]).toEqual([true, false]);
  expect(compileSchema({ type: 'string', pattern: '^\\u{1F600}$' })('😀')).toBe(true);
  for (const pattern of ['^a\\z', '\\Qa.b\\E'])
    expect(() => compileSchema({ type: 'string', pattern })).toThrow(/Invalid regular expression/);
  expect(compileSchema({ type: 'string', pattern: '^.{0,1000}$' })('x'.repeat(1000))).toBe(true); // about 2,000 instructions
  expect(() => compileSchema({ type: 'string', pattern: '^.{0,800}-.{0,800}$' })).toThrow(/too large to match in linear time/);
  // Each may apply to every string of an event: together they are bounded too, per schema.
  const three = {
    type: 'object',
    properties: Object.fromEntries(['a', 'b', 'c'].map((k) => [k, { type: 'string', pattern: `^${k}.{0,1000}$` }])),
  };
  expect(() => compileSchema(three)).toThrow(/too large together/);
  // One pattern used at six places (a $defs entry Ajv inlines at each $ref) is one pattern to match.
  const ids = Object.fromEntries(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((p) => [p, { $ref: '#/$defs/id' }]));
  const shared = compileSchema({ type: 'object', $defs: { id: { type: 'string', pattern: '^.{0,500}$' } }, properties: ids });
  expect([shared({ p1: 'x', p6: 'y' }), shared({ p3: 'z'.repeat(501) })]).toEqual([true, false]);
  expect(compileSchema({ ...three, properties: { a: three.properties.a, b: three.properties.b } })({ a: 'a', b: 'b' })).toBe(true);
});

test("a fresh process charges a schema for its own patterns, not for the meta-schema's it compiles on first use", async () => {
  await jest.isolateModulesAsync(async () => {
    const fresh = await import('../../src/api/event-type-schemas');
    const pattern = (prefix: string, n: number) => ({ type: 'string', pattern: `^${prefix}.{0,${n}}$` });
    // 2,005 + 2,005 + 985 instructions: 4,995 of the 5,000.
    const near = { type: 'object', properties: { a: pattern('a', 1000), b: pattern('b', 1000), c: pattern('c', 490) } };
    expect(fresh.compileSchema(near)({ a: 'a', c: 'c' })).toBe(true);
  });
});
