import fc from 'fast-check';
import {
  compileFilter,
  filterProblems,
  MAX_FILTER_DEPTH,
  MAX_FILTER_JSON_LENGTH,
  type EventFilter,
  type FilterableEvent,
} from '../../src/domain/filter';

const event: FilterableEvent = {
  type: 'payment.captured',
  actor: 'ci',
  source: 'billing',
  subject: { type: 'package', id: 'herald' },
  data: {
    env: 'prod',
    amount: 150,
    currency: 'EUR',
    approved: true,
    note: null,
    tags: ['urgent', 'eu'],
    customer: { id: 'c_1', address: { country: 'NL' }, since: '2024-01-31T10:00:00Z' },
    items: [{ sku: 'a-1', qty: 2 }, { sku: 'b-2' }],
  },
};
const bare: FilterableEvent = { type: 'payment.captured', data: {} };

const passes = (filter: EventFilter, e: FilterableEvent = event) => compileFilter(filter)(e);

describe('fields', () => {
  test('a bare value means $eq', () => {
    expect(passes({ 'data.env': 'prod' })).toBe(true);
    expect(passes({ 'data.env': 'staging' })).toBe(false);
    expect(passes({ 'data.amount': 150, 'data.approved': true })).toBe(true);
  });

  test('the top-level fields: type, actor, source, subject.type and subject.id', () => {
    expect(passes({ type: 'payment.captured', actor: 'ci', source: 'billing', 'subject.type': 'package', 'subject.id': 'herald' })).toBe(
      true,
    );
    for (const field of ['type', 'actor', 'source', 'subject.type', 'subject.id']) {
      expect(passes({ [field]: 'something else' })).toBe(false);
    }
  });

  test('an event without actor, source or subject has those fields missing', () => {
    for (const field of ['actor', 'source', 'subject.type', 'subject.id']) {
      expect(passes({ [field]: { $exists: false } }, bare)).toBe(true);
      expect(passes({ [field]: { $exists: true } }, bare)).toBe(false);
      expect(passes({ [field]: 'ci' }, bare)).toBe(false);
    }
  });

  test('dotted paths walk into nested objects', () => {
    expect(passes({ 'data.customer.address.country': 'NL' })).toBe(true);
    expect(passes({ 'data.customer.address.country': 'BE' })).toBe(false);
    expect(passes({ 'data.customer.address': { country: 'NL' } })).toBe(true);
  });

  test('a whole number in a path picks an array element', () => {
    expect(passes({ 'data.items.0.sku': 'a-1', 'data.items.1.sku': 'b-2', 'data.tags.1': 'eu' })).toBe(true);
    expect(passes({ 'data.items.2': { $exists: false }, 'data.items.1.qty': { $exists: false } })).toBe(true);
    // Only plainly written indexes: "01" and "-1" name no element.
    expect(passes({ 'data.tags.01': { $exists: false }, 'data.tags.-1': { $exists: false } })).toBe(true);
  });

  test('a path through a value that is not an object, or past its end, is a missing field', () => {
    expect(passes({ 'data.env.length': { $exists: false } })).toBe(true);
    expect(passes({ 'data.amount.x': { $exists: false } })).toBe(true);
    expect(passes({ 'data.note.x': { $exists: false } })).toBe(true);
    expect(passes({ 'data.nothing.deeper': { $exists: false } })).toBe(true);
    expect(passes({ 'data.customer.x': { $exists: false } })).toBe(true);
  });

  test("only the event's own keys are fields, never an object's inherited ones", () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(passes({ [`data.${key}`]: { $exists: false } })).toBe(true);
      expect(passes({ [`data.customer.${key}`]: { $exists: false } })).toBe(true);
    }
    const own = JSON.parse('{"__proto__": "mine", "constructor": 1}') as Record<string, unknown>;
    expect(passes({ 'data.__proto__': 'mine', 'data.constructor': 1 }, { type: 't', data: own })).toBe(true);
  });

  test('an empty filter passes every event', () => {
    expect(passes({}, bare)).toBe(true);
    expect(passes({})).toBe(true);
  });

  test('the entries of a filter must all hold', () => {
    expect(passes({ 'data.env': 'prod', 'data.currency': 'EUR' })).toBe(true);
    expect(passes({ 'data.env': 'prod', 'data.currency': 'USD' })).toBe(false);
  });

  test('the example of the documentation', () => {
    const filter = { 'data.env': 'prod', 'data.amount': { $gte: 100 }, 'subject.type': { $in: ['package', 'origin'] } };
    expect(passes(filter)).toBe(true);
    expect(passes(filter, { ...event, data: { ...event.data, amount: 99 } })).toBe(false);
    expect(passes(filter, { ...event, subject: { type: 'user', id: 'u' } })).toBe(false);
  });
});

describe('$eq and $ne', () => {
  test('values of different JSON types are never equal', () => {
    const typed: FilterableEvent = { type: 't', data: { one: 1, text: '1', yes: true, zero: 0, empty: '', nothing: null } };
    expect(passes({ 'data.one': '1' }, typed)).toBe(false);
    expect(passes({ 'data.text': 1 }, typed)).toBe(false);
    expect(passes({ 'data.yes': 1 }, typed)).toBe(false);
    expect(passes({ 'data.zero': false }, typed)).toBe(false);
    expect(passes({ 'data.empty': null }, typed)).toBe(false);
    expect(passes({ 'data.nothing': 0 }, typed)).toBe(false);
    expect(passes({ 'data.one': 1, 'data.text': '1', 'data.yes': true, 'data.zero': 0, 'data.empty': '' }, typed)).toBe(true);
  });

  test('objects are equal when their keys and values are, in any order', () => {
    expect(passes({ 'data.customer.address': { $eq: { country: 'NL' } } })).toBe(true);
    expect(
      passes({ 'data.customer': { address: { country: 'NL' }, since: '2024-01-31T10:00:00Z', id: 'c_1' } }), // keys reordered
    ).toBe(true);
    expect(passes({ 'data.customer.address': { country: 'NL', city: 'Utrecht' } })).toBe(false);
    expect(passes({ 'data.customer.address': {} })).toBe(false);
    expect(passes({ 'data.empty': {} }, { type: 't', data: { empty: {} } })).toBe(true);
  });

  test('arrays are equal element by element, in order', () => {
    expect(passes({ 'data.tags': ['urgent', 'eu'] })).toBe(true);
    expect(passes({ 'data.tags': ['eu', 'urgent'] })).toBe(false);
    expect(passes({ 'data.tags': ['urgent'] })).toBe(false);
    expect(passes({ 'data.items': [{ qty: 2, sku: 'a-1' }, { sku: 'b-2' }] })).toBe(true);
  });

  test('an array is a value like any other: no element of it is matched on its own', () => {
    expect(passes({ 'data.tags': 'urgent' })).toBe(false);
    expect(passes({ 'data.tags': { $in: ['urgent'] } })).toBe(false);
    expect(passes({ 'data.tags': { $ne: 'urgent' } })).toBe(true);
  });

  test('an object with "$" keys is compared through an explicit $eq', () => {
    const dollars: FilterableEvent = { type: 't', data: { query: { $gt: 5 } } };
    expect(passes({ 'data.query': { $eq: { $gt: 5 } } }, dollars)).toBe(true);
    expect(passes({ 'data.query': { $gt: 5 } }, dollars)).toBe(false); // an operator, and an object is not a number
  });

  test('null equals a null field and a missing one', () => {
    expect(passes({ 'data.note': null })).toBe(true);
    expect(passes({ 'data.absent': null })).toBe(true);
    expect(passes({ 'data.env': null })).toBe(false);
    expect(passes({ actor: null }, bare)).toBe(true);
  });

  test('$ne holds for a missing field, and for any value but its operand', () => {
    expect(passes({ 'data.env': { $ne: 'staging' } })).toBe(true);
    expect(passes({ 'data.env': { $ne: 'prod' } })).toBe(false);
    expect(passes({ 'data.absent': { $ne: 'prod' } })).toBe(true);
    expect(passes({ actor: { $ne: 'ci' } }, bare)).toBe(true);
    expect(passes({ 'data.amount': { $ne: '150' } })).toBe(true);
  });

  test('$ne: null requires the field, with a value other than null', () => {
    expect(passes({ 'data.env': { $ne: null } })).toBe(true);
    expect(passes({ 'data.note': { $ne: null } })).toBe(false);
    expect(passes({ 'data.absent': { $ne: null } })).toBe(false);
  });
});

describe('$in and $nin', () => {
  test('$in holds when the field equals one of the values', () => {
    expect(passes({ 'data.currency': { $in: ['USD', 'EUR'] } })).toBe(true);
    expect(passes({ 'data.currency': { $in: ['USD', 'GBP'] } })).toBe(false);
    expect(passes({ 'data.amount': { $in: ['150', 150] } })).toBe(true);
    expect(passes({ 'data.customer.address': { $in: [{ country: 'NL' }] } })).toBe(true);
    expect(passes({ 'data.tags': { $in: [['urgent', 'eu']] } })).toBe(true);
  });

  test('$in does not hold for a missing field unless it lists null', () => {
    expect(passes({ 'data.absent': { $in: ['EUR'] } })).toBe(false);
    expect(passes({ 'data.absent': { $in: ['EUR', null] } })).toBe(true);
  });

  test('$nin holds when the field equals none of the values, also when it is missing', () => {
    expect(passes({ 'data.currency': { $nin: ['USD', 'GBP'] } })).toBe(true);
    expect(passes({ 'data.currency': { $nin: ['USD', 'EUR'] } })).toBe(false);
    expect(passes({ 'data.absent': { $nin: ['USD'] } })).toBe(true);
    expect(passes({ 'data.absent': { $nin: [null] } })).toBe(false);
  });

  test('an empty $in holds for nothing, an empty $nin for everything', () => {
    expect(passes({ 'data.env': { $in: [] } })).toBe(false);
    expect(passes({ 'data.env': { $nin: [] } })).toBe(true);
    expect(passes({ 'data.absent': { $nin: [] } })).toBe(true);
  });
});

describe('$gt, $gte, $lt and $lte', () => {
  test('compare numbers', () => {
    expect(passes({ 'data.amount': { $gt: 149 } })).toBe(true);
    expect(passes({ 'data.amount': { $gt: 150 } })).toBe(false);
    expect(passes({ 'data.amount': { $gte: 150 } })).toBe(true);
    expect(passes({ 'data.amount': { $gte: 150.5 } })).toBe(false);
    expect(passes({ 'data.amount': { $lt: 151 } })).toBe(true);
    expect(passes({ 'data.amount': { $lt: 150 } })).toBe(false);
    expect(passes({ 'data.amount': { $lte: 150 } })).toBe(true);
    expect(passes({ 'data.amount': { $lte: -1 } })).toBe(false);
  });

  test('compare strings, by code point', () => {
    expect(passes({ 'data.currency': { $gt: 'EUQ' } })).toBe(true);
    expect(passes({ 'data.currency': { $gt: 'EUR' } })).toBe(false);
    expect(passes({ 'data.currency': { $gte: 'EUR', $lte: 'EUR' } })).toBe(true);
    expect(passes({ 'data.currency': { $lt: 'EURO' } })).toBe(true); // a prefix sorts first
    expect(passes({ 'data.currency': { $lt: 'eur' } })).toBe(true); // upper case before lower case
    // U+1F600 is above U+FFFD, though its first UTF-16 unit (0xD83D) is below 0xFFFD.
    const emoji: FilterableEvent = { type: 't', data: { face: '\u{1F600}', replacement: '\uFFFD' } };
    expect(passes({ 'data.face': { $gt: '\uFFFD' } }, emoji)).toBe(true);
    expect(passes({ 'data.replacement': { $lt: '\u{1F600}' } }, emoji)).toBe(true);
    expect(passes({ 'data.face': { $lt: '\uFFFD' } }, emoji)).toBe(false);
  });

  test('timestamps written alike compare in time order', () => {
    expect(passes({ 'data.customer.since': { $gte: '2024-01-01T00:00:00Z', $lt: '2024-02-01T00:00:00Z' } })).toBe(true);
    expect(passes({ 'data.customer.since': { $gt: '2024-01-31T10:00:01Z' } })).toBe(false);
  });

  test('compare only values of the same type: a number with a number, a string with a string', () => {
    expect(passes({ 'data.amount': { $gt: '100' } })).toBe(false);
    expect(passes({ 'data.amount': { $lt: '999' } })).toBe(false);
    expect(passes({ 'data.currency': { $gt: 0 } })).toBe(false);
    expect(passes({ 'data.currency': { $lt: 0 } })).toBe(false);
    for (const field of ['data.approved', 'data.note', 'data.tags', 'data.customer']) {
      for (const op of ['$gt', '$gte', '$lt', '$lte']) {
        expect(passes({ [field]: { [op]: 0 } })).toBe(false);
        expect(passes({ [field]: { [op]: '' } })).toBe(false);
      }
    }
  });

  test('do not hold for a missing field', () => {
    for (const op of ['$gt', '$gte', '$lt', '$lte']) {
      expect(passes({ 'data.absent': { [op]: 0 } })).toBe(false);
      expect(passes({ actor: { [op]: '' } }, bare)).toBe(false);
    }
  });

  test('operators beside each other must all hold: a range', () => {
    expect(passes({ 'data.amount': { $gt: 100, $lt: 200 } })).toBe(true);
    expect(passes({ 'data.amount': { $gt: 100, $lt: 150 } })).toBe(false);
    expect(passes({ 'data.amount': { $gte: 150, $ne: 150 } })).toBe(false);
  });
});

describe('$exists', () => {
  test('true holds for a field that is there, even when null; false for one that is not', () => {
    expect(passes({ 'data.env': { $exists: true } })).toBe(true);
    expect(passes({ 'data.note': { $exists: true } })).toBe(true);
    expect(passes({ 'data.absent': { $exists: true } })).toBe(false);
    expect(passes({ 'data.absent': { $exists: false } })).toBe(true);
    expect(passes({ 'data.note': { $exists: false } })).toBe(false);
    expect(passes({ type: { $exists: true } }, bare)).toBe(true);
  });
});

describe('$not on a field', () => {
  test('negates its operators, and holds for a missing field', () => {
    expect(passes({ 'data.amount': { $not: { $gt: 200 } } })).toBe(true);
    expect(passes({ 'data.amount': { $not: { $gt: 100 } } })).toBe(false);
    expect(passes({ 'data.amount': { $not: { $gt: 100, $lt: 120 } } })).toBe(true); // not inside the range
    expect(passes({ 'data.absent': { $not: { $gt: 100 } } })).toBe(true);
    expect(passes({ 'data.currency': { $not: { $in: ['USD', 'GBP'] } } })).toBe(true);
    expect(passes({ 'data.currency': { $not: { $not: { $eq: 'EUR' } } } })).toBe(true);
  });
});

describe('$and, $or and $not of filters', () => {
  test('$and holds when every filter does', () => {
    expect(passes({ $and: [{ 'data.env': 'prod' }, { 'data.amount': { $gt: 100 } }] })).toBe(true);
    expect(passes({ $and: [{ 'data.env': 'prod' }, { 'data.amount': { $gt: 200 } }] })).toBe(false);
  });

  test('$or holds when one filter does', () => {
    expect(passes({ $or: [{ 'data.env': 'staging' }, { 'data.amount': { $gt: 100 } }] })).toBe(true);
    expect(passes({ $or: [{ 'data.env': 'staging' }, { 'data.amount': { $gt: 200 } }] })).toBe(false);
    expect(passes({ $or: [{}] }, bare)).toBe(true);
  });

  test('$not of a filter holds when the filter does not', () => {
    expect(passes({ $not: { 'data.env': 'staging' } })).toBe(true);
    expect(passes({ $not: { 'data.env': 'prod', 'data.currency': 'EUR' } })).toBe(false);
    expect(passes({ $not: { 'data.env': 'prod', 'data.currency': 'USD' } })).toBe(true); // not both
    expect(passes({ $not: {} }, bare)).toBe(false);
  });

  test('nest, and sit beside fields, which must hold too', () => {
    const filter = {
      'subject.type': 'package',
      $or: [{ $and: [{ 'data.env': 'prod' }, { $not: { 'data.currency': { $in: ['USD'] } } }] }, { 'data.amount': { $gte: 1000 } }],
    };
    expect(passes(filter)).toBe(true);
    expect(passes(filter, { ...event, data: { ...event.data, currency: 'USD' } })).toBe(false);
    expect(passes(filter, { ...event, data: { ...event.data, currency: 'USD', amount: 1000 } })).toBe(true);
    expect(passes(filter, { ...event, subject: { type: 'origin', id: 'o' } })).toBe(false);
  });
});

describe('filterProblems', () => {
  const problemsOf = (filter: unknown) => filterProblems(filter).map((p) => p.path);

  test('a valid filter has none', () => {
    expect(filterProblems({ 'data.env': 'prod', $or: [{ actor: { $in: ['a'] } }, { $not: { source: { $exists: true } } }] })).toEqual([]);
  });

  test('an unknown operator on a field is named by its path', () => {
    const [problem] = filterProblems({ 'data.amount': { $gte: 1, $regex: 'x' } });
    expect(problem.path).toEqual(['data.amount', '$regex']);
    expect(problem.message).toMatch(/is not an operator; a field takes \$eq, .*\$not/);
  });

  test('an unknown operator of the filter is named by its path', () => {
    expect(problemsOf({ $nor: [{ actor: 'a' }] })).toEqual([['$nor']]);
    expect(problemsOf({ $where: 'true' })).toEqual([['$where']]);
  });

  test("a field's operator at the filter's level, and a filter's operator on a field, say where they belong", () => {
    const [fieldOperator] = filterProblems({ $gt: 5 });
    expect(fieldOperator).toEqual({ path: ['$gt'], message: 'applies to a field: write {"<field>": {"$gt": …}}' });
    const [filterOperator] = filterProblems({ actor: { $or: [] } });
    expect(filterOperator.path).toEqual(['actor', '$or']);
    expect(filterOperator.message).toMatch(/combines filters/);
  });

  test.each(['data', 'data.', 'data..x', 'subject', 'id', 'correlationId', 'Data.x', ' type'])('%p is not a field', (field) => {
    const [problem] = filterProblems({ [field]: 1 });
    expect(problem.path).toEqual([field]);
    expect(problem.message).toMatch(/is not a field of an event/);
  });

  test.each([
    [{ 'data.a': { $in: 'x' } }, ['data.a', '$in'], 'must be an array of values'],
    [{ 'data.a': { $nin: { x: 1 } } }, ['data.a', '$nin'], 'must be an array of values'],
    [{ 'data.a': { $gt: true } }, ['data.a', '$gt'], 'must be a number or a string'],
    [{ 'data.a': { $lte: null } }, ['data.a', '$lte'], 'must be a number or a string'],
    [{ 'data.a': { $lt: [1] } }, ['data.a', '$lt'], 'must be a number or a string'],
    [{ 'data.a': { $gte: { n: 1 } } }, ['data.a', '$gte'], 'must be a number or a string'],
    [{ 'data.a': { $exists: 1 } }, ['data.a', '$exists'], 'must be true or false'],
    [{ 'data.a': { $not: 5 } }, ['data.a', '$not'], 'must be operators to negate, e.g. {"$not": {"$gt": 5}}'],
    [{ 'data.a': { $not: { x: 1 } } }, ['data.a', '$not'], 'must be operators to negate, e.g. {"$not": {"$gt": 5}}'],
    [{ 'data.a': { $not: {} } }, ['data.a', '$not'], 'must be operators to negate, e.g. {"$not": {"$gt": 5}}'],
    [{ $and: [] }, ['$and'], 'must be a non-empty array of filters'],
    [{ $or: { actor: 'a' } }, ['$or'], 'must be a non-empty array of filters'],
    [{ $and: [{ actor: 'a' }, 'actor'] }, ['$and', 1], 'must be a filter: an object such as {"data.env": "prod"}'],
    [{ $or: [[]] }, ['$or', 0], 'must be a filter: an object such as {"data.env": "prod"}'],
    [{ $not: null }, ['$not'], 'must be a filter: an object such as {"data.env": "prod"}'],
  ])('%j: the operand at %j %s', (filter, path, message) => {
    expect(filterProblems(filter)).toEqual([{ path, message }]);
  });

  test('operators mixed with other keys are refused at the first operator', () => {
    const [problem] = filterProblems({ 'data.q': { a: 1, $gt: 5 } });
    expect(problem.path).toEqual(['data.q', '$gt']);
    expect(problem.message).toMatch(/write \{"\$eq": \{…\}\}/);
  });

  test('problems deep inside $and, $or and $not carry their whole path', () => {
    const filter = { $or: [{ actor: 'a' }, { $and: [{ $not: { 'data.x.y': { $nope: 1 } } }] }] };
    expect(problemsOf(filter)).toEqual([['$or', 1, '$and', 0, '$not', 'data.x.y', '$nope']]);
  });

  test('every problem is reported, not only the first', () => {
    expect(problemsOf({ 'data.a': { $foo: 1 }, bogus: 1, $and: [] })).toEqual([['data.a', '$foo'], ['bogus'], ['$and']]);
  });

  test('a filter is not a list or a value', () => {
    for (const filter of [[], 'x', 5, null]) expect(problemsOf(filter)).toEqual([[]]);
  });

  test(`a filter nests at most ${MAX_FILTER_DEPTH} levels deep`, () => {
    const nested = (levels: number): Record<string, unknown> => (levels === 1 ? { actor: 'a' } : { $not: nested(levels - 1) });
    expect(filterProblems(nested(MAX_FILTER_DEPTH))).toEqual([]);
    expect(filterProblems(nested(MAX_FILTER_DEPTH + 1))).toEqual([{ path: [], message: 'must not nest deeper than 16 levels' }]);
    // Values count too: they are compared on every event.
    const deepValue = JSON.parse('{"data.a": ' + '['.repeat(MAX_FILTER_DEPTH) + ']'.repeat(MAX_FILTER_DEPTH) + '}') as unknown;
    expect(problemsOf(deepValue)).toEqual([[]]);
  });

  test(`a filter is at most ${MAX_FILTER_JSON_LENGTH} characters as JSON`, () => {
    const sized = (length: number) => ({ 'data.a': 'x'.repeat(length - '{"data.a":""}'.length) });
    expect(JSON.stringify(sized(MAX_FILTER_JSON_LENGTH))).toHaveLength(MAX_FILTER_JSON_LENGTH);
    expect(filterProblems(sized(MAX_FILTER_JSON_LENGTH))).toEqual([]);
    expect(filterProblems(sized(MAX_FILTER_JSON_LENGTH + 1))).toEqual([{ path: [], message: 'must be at most 16384 characters as JSON' }]);
  });

  test('compileFilter refuses what filterProblems finds', () => {
    expect(() => compileFilter({ 'data.a': { $foo: 1 }, bogus: 1 })).toThrow(
      /^invalid filter: data\.a\.\$foo: is not an operator.*; bogus: is not a field of an event/,
    );
  });
});

/**
 * The evaluator against a reference written apart from it: it reads the filter as it is on
 * every call (no compiling), walks paths from one root object holding the event's fields,
 * compares values by their canonical JSON, and strings by their arrays of code points.
 */
describe('against a reference evaluation', () => {
  type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
  type Found = { present: false } | { present: true; value: Json };

  function lookup(e: FilterableEvent, path: string): Found {
    const root: Record<string, Json> = { type: e.type, data: e.data as Json };
    if (e.actor !== undefined) root.actor = e.actor;
    if (e.source !== undefined) root.source = e.source;
    if (e.subject !== undefined) root.subject = e.subject;
    let found: Found = { present: true, value: root };
    for (const key of path.split('.')) {
      if (!found.present) return found;
      const v: Json = found.value;
      if (Array.isArray(v)) {
        const index = Number(key);
        found = String(index) === key && index < v.length ? { present: true, value: v[index] } : { present: false };
      } else if (v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, key)) {
        found = { present: true, value: v[key] };
      } else {
        found = { present: false };
      }
    }
    return found;
  }

  const canonical = (v: Json): string =>
    Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : v !== null && typeof v === 'object'
        ? `{${Object.keys(v)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
            .join(',')}}`
        : JSON.stringify(v);

  function equals(found: Found, operand: Json): boolean {
    if (operand === null) return !found.present || found.value === null;
    return found.present && canonical(found.value) === canonical(operand);
  }

  function sign(a: number | string, b: number | string): number {
    if (typeof a === 'number') return Math.sign(a - (b as number));
    const x = Array.from(a).map((c) => c.codePointAt(0)!);
    const y = Array.from(b as string).map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return Math.sign(x[i] - y[i]);
    return Math.sign(x.length - y.length);
  }

  const isOperators = (v: Json): v is { [key: string]: Json } =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k[0] === '$');

  function holds(found: Found, condition: Json): boolean {
    if (!isOperators(condition)) return equals(found, condition);
    return Object.entries(condition).every(([op, operand]) => {
      if (op === '$eq') return equals(found, operand);
      if (op === '$ne') return !equals(found, operand);
      if (op === '$in') return (operand as Json[]).some((o) => equals(found, o));
      if (op === '$nin') return !(operand as Json[]).some((o) => equals(found, o));
      if (op === '$exists') return found.present === operand;
      if (op === '$not') return !holds(found, operand);
      if (!found.present || typeof found.value !== typeof operand) return false;
      const s = sign(found.value as number | string, operand as number | string);
      return op === '$gt' ? s > 0 : op === '$gte' ? s >= 0 : op === '$lt' ? s < 0 : s <= 0;
    });
  }

  function reference(filter: { [key: string]: Json }, e: FilterableEvent): boolean {
    type Filter = { [key: string]: Json };
    return Object.entries(filter).every(([key, value]) => {
      if (key === '$and') return (value as Filter[]).every((f) => reference(f, e));
      if (key === '$or') return (value as Filter[]).some((f) => reference(f, e));
      if (key === '$not') return !reference(value as Filter, e);
      return holds(lookup(e, key), value);
    });
  }

  // Small domains, so that generated filters and events often meet.
  const strings = fc.constantFrom('', 'a', 'b', 'ab', 'B', '\uFFFD', '\u{1F600}', '2024-01-01T00:00:00Z');
  const scalars = fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constantFrom(0.5, -0), strings, fc.boolean(), fc.constant(null));
  const keys = fc.constantFrom('x', 'y', 'z');
  const { json } = fc.letrec<{ json: Json }>((tie) => ({
    json: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'json' },
      scalars,
      fc.array(tie('json'), { maxLength: 2, depthIdentifier: 'json' }),
      fc.dictionary(keys, tie('json'), { maxKeys: 2, depthIdentifier: 'json' }),
    ),
  }));
  const events: fc.Arbitrary<FilterableEvent> = fc.record(
    {
      type: fc.constantFrom('a.b', 'a.c'),
      actor: strings,
      source: strings,
      subject: fc.record({ type: strings, id: strings }),
      data: fc.dictionary(keys, json, { maxKeys: 3 }),
    },
    { requiredKeys: ['type', 'data'] },
  );

  type Filter = { [key: string]: Json };
  const fields = fc.constantFrom(
    'type',
    'actor',
    'source',
    'subject.type',
    'subject.id',
    'data.x',
    'data.y',
    'data.x.y',
    'data.x.0',
    'data.z.y.x',
  );
  const ordered = fc.oneof(fc.integer({ min: -2, max: 2 }), strings);
  // A bare value is equality; an object of "$" keys would read as operators, so those come from `operatorsAt`.
  const bareValues = json.filter((v) => !isOperators(v));
  // Levels of nesting are bounded, so that every generated filter stays within MAX_FILTER_DEPTH.
  const operatorsAt = (depth: number): fc.Arbitrary<Filter> =>
    fc
      .array(
        fc.oneof(
          fc.tuple(fc.constantFrom('$eq', '$ne'), json),
          fc.tuple(fc.constantFrom('$in', '$nin'), fc.array(json, { maxLength: 3 })),
          fc.tuple(fc.constantFrom('$gt', '$gte', '$lt', '$lte'), ordered),
          fc.tuple(fc.constant('$exists'), fc.boolean()),
          ...(depth > 0 ? [fc.tuple(fc.constant('$not'), operatorsAt(depth - 1))] : []),
        ),
        { minLength: 1, maxLength: 2 },
      )
      .map((entries) => Object.fromEntries<Json>(entries));
  const filterAt = (depth: number): fc.Arbitrary<Filter> =>
    fc
      .array(
        fc.oneof(
          fc.tuple(fields, fc.oneof(bareValues, operatorsAt(2))),
          ...(depth > 0
            ? [
                fc.tuple(fc.constantFrom('$and', '$or'), fc.array(filterAt(depth - 1), { minLength: 1, maxLength: 3 })),
                fc.tuple(fc.constant('$not'), filterAt(depth - 1)),
              ]
            : []),
        ),
        { maxLength: 3 },
      )
      .map((entries) => Object.fromEntries<Json>(entries));
  const filter = filterAt(3);

  test('the evaluator agrees with the reference on random filters and events', () => {
    fc.assert(
      fc.property(filter, fc.array(events, { minLength: 1, maxLength: 5 }), (f, es) => {
        expect(filterProblems(f)).toEqual([]);
        const compiled = compileFilter(f);
        for (const e of es) expect(compiled(e)).toBe(reference(f, e));
      }),
      { numRuns: 3000 },
    );
  });

  test('the random filters both pass and fail events: the comparison above is not vacuous', () => {
    const outcomes = fc.sample(fc.tuple(filter, events), { numRuns: 2000, seed: 42 }).map(([f, e]) => compileFilter(f)(e));
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(200);
    expect(outcomes.filter((o) => !o).length).toBeGreaterThan(200);
  });
});
