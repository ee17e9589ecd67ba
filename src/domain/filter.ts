/**
 * Subscription filters: a small JSON language over an event's fields, read the way a MongoDB
 * query is read. The API validates a filter with `filterProblems` when a subscription is saved;
 * the worker compiles it once per load of the tenant's subscriptions (`compileFilter`) and runs
 * the predicate on every event whose type the subscription matches.
 *
 * A filter is an object; each of its entries must hold (an implicit `$and`), and `{}` holds
 * for every event. An entry is either
 * - a field and its condition. Fields: `type`, `actor`, `source`, `subject.type`, `subject.id`
 *   and `data.<path>`, where the path's dot-separated keys walk into nested objects and a whole
 *   number picks an array element (`data.items.0.sku`). A key holding a dot cannot be named.
 *   A condition is an object of operators, all of which must hold; any other value (also an
 *   object without `$` keys) means `{"$eq": value}`:
 *   - `$eq`, `$ne`: JSON equality, deep for arrays and objects (an object's key order does not
 *     count, unlike MongoDB's); `null` also equals a missing field, as in MongoDB.
 *   - `$in`, `$nin`: an array; `$in` holds when `$eq` holds for one of its values.
 *   - `$gt`, `$gte`, `$lt`, `$lte`: a number or a string, compared only with a field of the same
 *     type (anything else, a missing field too, does not hold); strings compare by Unicode code
 *     point, as MongoDB's binary comparison does, so timestamps compare right only when written
 *     alike (e.g. all UTC with "Z").
 *   - `$exists`: true or false.
 *   - `$not`: operators, negated (`{"$not": {"$gt": 5}}` also holds for a missing field).
 *   `$ne`, `$nin` and `$not` hold for a missing field unless their operand says otherwise
 *   (`{"$ne": null}` requires the field); `$exists: false` holds only for a missing one.
 * - `$and` or `$or` with a non-empty array of filters, or `$not` with one filter.
 *
 * Arrays are values like any other: `{"data.tags": "a"}` does not hold for `["a", "b"]`
 * (MongoDB would look inside). Without element matching every operator reads one value, so
 * `$ne`, `$nin` and the comparisons mean what they say.
 */

/** A filter as the API takes and shows it. */
export type EventFilter = Record<string, unknown>;

/**
 * What a filter reads of an event: the fields of HeraldEvent it may name, written out here
 * because the schemas import this module to validate filters.
 */
export interface FilterableEvent {
  type: string;
  data: Record<string, unknown>;
  subject?: { type: string; id: string };
  actor?: string;
  source?: string;
}

/** Whether an event passes a filter. */
export type EventPredicate = (event: FilterableEvent) => boolean;

/** Where a filter is wrong (keys and array indexes from its root) and why. */
export interface FilterProblem {
  path: (string | number)[];
  message: string;
}

/** Kept small: a filter is evaluated for every matching event, and stored on its subscription. */
export const MAX_FILTER_JSON_LENGTH = 16_384;
/** Each object or array is a level, the filter itself the first. */
export const MAX_FILTER_DEPTH = 16;

/** Every way a filter is wrong; none for a valid one. */
export function filterProblems(filter: unknown): FilterProblem[] {
  return parse(filter).problems;
}

/** The predicate of a valid filter (validated when its subscription was saved); throws for an invalid one. */
export function compileFilter(filter: EventFilter): EventPredicate {
  const { predicate, problems } = parse(filter);
  if (problems.length > 0) {
    const listed = problems.map((p) => `${p.path.join('.') || '(the filter)'}: ${p.message}`).join('; ');
    throw new Error(`invalid filter: ${listed}`);
  }
  return predicate;
}

/** The value of a field the event does not have. */
const MISSING = Symbol('missing');
/** A field's value as JSON, or MISSING. */
type FieldValue = unknown;
/** A condition on one field's value. */
type Condition = (value: FieldValue) => boolean;
type Path = FilterProblem['path'];

const FILTER_OPERATORS = ['$and', '$or', '$not'];
const FIELD_OPERATORS = ['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', '$not'];
export const FIELDS_HELP = 'data.<path>, subject.type, subject.id, actor, source or type';

// Stands in for a part found wrong: the filter is then refused, never run.
const NEVER = () => false;

function parse(filter: unknown): { predicate: EventPredicate; problems: FilterProblem[] } {
  // Checked before the walk, which recurses: a filter too large is refused as a whole.
  const tooLarge = sizeProblem(filter);
  if (tooLarge) return { predicate: NEVER, problems: [{ path: [], message: tooLarge }] };
  const problems: FilterProblem[] = [];
  const predicate = filterOf(filter, [], problems);
  return { predicate, problems };
}

function sizeProblem(filter: unknown): string | null {
  if (deeperThan(filter, MAX_FILTER_DEPTH)) return `must not nest deeper than ${MAX_FILTER_DEPTH} levels`;
  if (isObject(filter) && JSON.stringify(filter).length > MAX_FILTER_JSON_LENGTH)
    return `must be at most ${MAX_FILTER_JSON_LENGTH} characters as JSON`;
  return null;
}

function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  return Object.values(value).some((v) => deeperThan(v, levels - 1));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isOperator = (key: string) => key.startsWith('$');

function filterOf(filter: unknown, at: Path, problems: FilterProblem[]): EventPredicate {
  if (!isObject(filter)) {
    problems.push({ path: at, message: 'must be a filter: an object such as {"data.env": "prod"}' });
    return NEVER;
  }
  const entries = Object.entries(filter).map(([key, value]) =>
    isOperator(key) ? combination(key, value, [...at, key], problems) : fieldTest(key, value, [...at, key], problems),
  );
  return every(entries);
}

function every<T>(tests: ((subject: T) => boolean)[]): (subject: T) => boolean {
  if (tests.length === 1) return tests[0];
  return (subject) => tests.every((test) => test(subject));
}

/** `$and`, `$or` and `$not` of whole filters. */
function combination(operator: string, operand: unknown, at: Path, problems: FilterProblem[]): EventPredicate {
  if (operator === '$not') {
    const negated = filterOf(operand, at, problems);
    return (event) => !negated(event);
  }
  if (operator !== '$and' && operator !== '$or') {
    const message = FIELD_OPERATORS.includes(operator)
      ? `applies to a field: write {"<field>": {"${operator}": …}}`
      : `is not an operator; a filter takes ${FILTER_OPERATORS.join(', ')} and fields (${FIELDS_HELP})`;
    problems.push({ path: at, message });
    return NEVER;
  }
  if (!Array.isArray(operand) || operand.length === 0) {
    problems.push({ path: at, message: 'must be a non-empty array of filters' });
    return NEVER;
  }
  const parts = operand.map((part, i) => filterOf(part, [...at, i], problems));
  return operator === '$and' ? every(parts) : (event) => parts.some((p) => p(event));
}

function fieldTest(field: string, condition: unknown, at: Path, problems: FilterProblem[]): EventPredicate {
  const read = fieldReader(field);
  if (!read) {
    problems.push({ path: at, message: `is not a field of an event; fields are ${FIELDS_HELP}` });
    return NEVER;
  }
  const holds = conditionOf(condition, at, problems);
  return (event) => holds(read(event));
}

/** How a field is read from an event, or null when the filter language has no such field. */
function fieldReader(field: string): ((event: FilterableEvent) => FieldValue) | null {
  switch (field) {
    case 'type':
      return (event) => event.type;
    case 'actor':
      return (event) => event.actor ?? MISSING;
    case 'source':
      return (event) => event.source ?? MISSING;
    case 'subject.type':
      return (event) => event.subject?.type ?? MISSING;
    case 'subject.id':
      return (event) => event.subject?.id ?? MISSING;
  }
  if (!field.startsWith('data.')) return null;
  const keys = field.slice('data.'.length).split('.');
  if (keys.some((k) => k === '')) return null;
  return (event) => keys.reduce<FieldValue>(child, event.data);
}

/** A key of an object, or an element of an array by a whole number written plainly. */
function child(value: FieldValue, key: string): FieldValue {
  if (Array.isArray(value)) return /^(0|[1-9]\d*)$/.test(key) && Number(key) < value.length ? (value[Number(key)] as unknown) : MISSING;
  // Own keys only: "data.constructor" must not find Object's.
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : MISSING;
}

/** A field's condition: operators when every key is one, else a value it must equal. */
function conditionOf(condition: unknown, at: Path, problems: FilterProblem[]): Condition {
  if (!isObject(condition)) return equalTo(condition);
  const keys = Object.keys(condition);
  const operators = keys.filter(isOperator);
  if (operators.length === 0) return equalTo(condition);
  if (operators.length < keys.length) {
    problems.push({
      path: [...at, operators[0]],
      message: 'sits beside keys that are not operators: to compare with an object holding "$" keys, write {"$eq": {…}}',
    });
    return NEVER;
  }
  return every(keys.map((op) => operatorOf(op, condition[op], [...at, op], problems)));
}

function operatorOf(operator: string, operand: unknown, at: Path, problems: FilterProblem[]): Condition {
  const refuse = (message: string) => {
    problems.push({ path: at, message });
    return NEVER;
  };
  switch (operator) {
    case '$eq':
      return equalTo(operand);
    case '$ne': {
      const equal = equalTo(operand);
      return (value) => !equal(value);
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand)) return refuse('must be an array of values');
      const equals = operand.map(equalTo);
      const isIn: Condition = (value) => equals.some((equal) => equal(value));
      return operator === '$in' ? isIn : (value) => !isIn(value);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'number' && typeof operand !== 'string') return refuse('must be a number or a string');
      const holds = ORDER_TESTS[operator];
      return (value) => typeof value === typeof operand && holds(order(value as typeof operand, operand));
    }
    case '$exists':
      if (typeof operand !== 'boolean') return refuse('must be true or false');
      return operand ? (value) => value !== MISSING : (value) => value === MISSING;
    case '$not': {
      if (!isObject(operand) || Object.keys(operand).length === 0 || !Object.keys(operand).every(isOperator))
        return refuse('must be operators to negate, e.g. {"$not": {"$gt": 5}}');
      const negated = conditionOf(operand, at, problems);
      return (value) => !negated(value);
    }
  }
  return refuse(
    FILTER_OPERATORS.includes(operator)
      ? `combines filters: write {"${operator}": [{…}, {…}]} beside the fields, not inside one`
      : `is not an operator; a field takes ${FIELD_OPERATORS.join(', ')}`,
  );
}

const ORDER_TESTS: Record<'$gt' | '$gte' | '$lt' | '$lte', (order: number) => boolean> = {
  $gt: (order) => order > 0,
  $gte: (order) => order >= 0,
  $lt: (order) => order < 0,
  $lte: (order) => order <= 0,
};

/** Negative, zero or positive as `a` sorts before, with or after `b` (both numbers or both strings). */
function order(a: number | string, b: number | string): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Code point order, which is MongoDB's (it compares UTF-8 bytes). JavaScript's `<` compares
 * UTF-16 units instead, which sorts a character above U+FFFF (a surrogate pair, from 0xD800)
 * before one from U+E000 to U+FFFF; ranking surrogates above those units puts it right.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unitRank(x) - unitRank(y);
  }
  return a.length - b.length;
}

const unitRank = (unit: number) => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit);

/** `$eq`: `null` also matches a missing field, as in MongoDB; anything else needs the field. */
function equalTo(operand: unknown): Condition {
  if (operand === null) return (value) => value === null || value === MISSING;
  return (value) => value !== MISSING && jsonEqual(value, operand);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}
