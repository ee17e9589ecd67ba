import { InvalidArgumentError } from 'commander';
import { parse } from '../../src/cli/context';
import { describeLimits, normalizedSubjects, withinLimits } from '../../src/domain/key-limits';
import { apiKeyCreateSchema } from '../../src/domain/schemas';
import { withKeyLimits } from '../../src/store/key-limits';

const pkg = (id: string) => ({ type: 'package', id });

describe('withinLimits', () => {
  test('a key without limits sees every event, an event without subject included', () => {
    expect(withinLimits(undefined, { type: 'a.b' })).toBe(true);
    expect(withinLimits({}, { type: 'herald.api_key.created' })).toBe(true);
  });

  test('subjects: a type alone covers every id of it; a type and id covers that resource only', () => {
    const limits = { subjects: [{ type: 'origin' }, pkg('herald')] };
    expect(withinLimits(limits, { type: 'x', subject: { type: 'origin', id: 'any' } })).toBe(true);
    expect(withinLimits(limits, { type: 'x', subject: pkg('herald') })).toBe(true);
    expect(withinLimits(limits, { type: 'x', subject: pkg('other') })).toBe(false);
    expect(withinLimits(limits, { type: 'x', subject: { type: 'packages', id: 'herald' } })).toBe(false);
  });

  test('an event about no resource is outside any subject limit', () => {
    expect(withinLimits({ subjects: [{ type: 'package' }] }, { type: 'x' })).toBe(false);
  });

  test('event types are read as subscription patterns: "a.*" is a and below, "*" leaves out herald.*', () => {
    const limits = { eventTypes: ['deploy.*', 'build.finished'] };
    expect(withinLimits(limits, { type: 'deploy' })).toBe(true);
    expect(withinLimits(limits, { type: 'deploy.started' })).toBe(true);
    expect(withinLimits(limits, { type: 'deployment.started' })).toBe(false);
    expect(withinLimits(limits, { type: 'build.finished' })).toBe(true);
    expect(withinLimits(limits, { type: 'build.finished.late' })).toBe(false);
    expect(withinLimits({ eventTypes: ['*'] }, { type: 'a.b' })).toBe(true);
    expect(withinLimits({ eventTypes: ['*'] }, { type: 'herald.ping' })).toBe(false);
  });

  test('with both, an event must hold to both', () => {
    const limits = { subjects: [pkg('herald')], eventTypes: ['package.*'] };
    expect(withinLimits(limits, { type: 'package.promoted', subject: pkg('herald') })).toBe(true);
    expect(withinLimits(limits, { type: 'build.finished', subject: pkg('herald') })).toBe(false);
    expect(withinLimits(limits, { type: 'package.promoted', subject: pkg('other') })).toBe(false);
  });
});

describe('normalizedSubjects and describeLimits', () => {
  test('a resource under a whole type it is of, and repeats, are dropped', () => {
    expect(normalizedSubjects([pkg('a'), { type: 'package' }, { type: 'origin', id: 'x' }, { type: 'origin', id: 'x' }])).toEqual([
      { type: 'package' },
      { type: 'origin', id: 'x' },
    ]);
  });

  test('limits read as one line', () => {
    expect(describeLimits({ subjects: [pkg('herald'), { type: 'origin' }], eventTypes: ['deploy.*'] })).toBe(
      'subjects package/herald, origin/*; event types deploy.*',
    );
  });
});

describe('withKeyLimits: the limits as a query', () => {
  test('without limits the filter is unchanged', () => {
    const filter = { tenant: 't', type: 'a.b' };
    expect(withKeyLimits(filter, undefined)).toBe(filter);
  });

  test('one resource: top-level equalities an index is led by, and the exact condition', () => {
    expect(withKeyLimits({ tenant: 't' }, { subjects: [pkg('herald')] })).toEqual({
      tenant: 't',
      'subject.type': 'package',
      'subject.id': 'herald',
      $and: [{ $or: [{ 'subject.type': 'package', 'subject.id': 'herald' }] }],
    });
  });

  test('several subjects: $in bounds (ids only when every subject names one), the pairs exactly in $or', () => {
    expect(withKeyLimits({ tenant: 't' }, { subjects: [pkg('a'), { type: 'origin', id: 'b' }] })).toMatchObject({
      'subject.type': { $in: ['package', 'origin'] },
      'subject.id': { $in: ['a', 'b'] },
      $and: [
        {
          $or: [
            { 'subject.type': 'package', 'subject.id': 'a' },
            { 'subject.type': 'origin', 'subject.id': 'b' },
          ],
        },
      ],
    });
    const mixed = withKeyLimits({ tenant: 't' }, { subjects: [pkg('a'), { type: 'origin' }] });
    expect(mixed['subject.type']).toEqual({ $in: ['package', 'origin'] });
    expect(mixed).not.toHaveProperty(['subject.id']);
  });

  test('exact types bound `type`; a wildcard keeps only the exact condition', () => {
    expect(withKeyLimits({ tenant: 't' }, { eventTypes: ['a.b', 'c.d'] })).toEqual({
      tenant: 't',
      type: { $in: ['a.b', 'c.d'] },
      $and: [{ $or: [{ type: { $in: ['a.b', 'c.d'] } }] }],
    });
    const wild = withKeyLimits({ tenant: 't' }, { eventTypes: ['a.b', 'deploy.*', '*'] });
    expect(wild).not.toHaveProperty('type');
    expect(wild.$and).toEqual([
      { $or: [{ type: { $in: ['a.b'] } }, { type: { $regex: '^deploy(\\.|$)' } }, { type: { $not: /^herald(\.|$)/ } }] },
    ]);
  });

  test("the query's own fields and $and stay; the limits are added beside them", () => {
    const after = { $or: [{ occurredAt: { $lt: new Date(0) } }] };
    const limited = withKeyLimits(
      { tenant: 't', type: 'x.y', 'subject.type': 'origin', $and: [after] },
      { subjects: [pkg('a')], eventTypes: ['a.b'] },
    );
    expect(limited.type).toBe('x.y');
    expect(limited['subject.type']).toBe('origin');
    expect(limited.$and).toHaveLength(3);
    expect(limited.$and![0]).toBe(after);
  });
});

describe('creating a limited or expiring key', () => {
  const base = { name: 'ci', tenant: 'default', scopes: ['events:write'] };

  test('expiresAt must be an RFC 3339 time in the future', () => {
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(apiKeyCreateSchema.safeParse({ ...base, expiresAt: future }).success).toBe(true);
    for (const expiresAt of ['2020-01-01T00:00:00Z', 'tomorrow', '2030-01-01']) {
      const result = apiKeyCreateSchema.safeParse({ ...base, expiresAt });
      expect({ expiresAt, ok: result.success }).toEqual({ expiresAt, ok: false });
    }
  });

  test('limits need at least one entry, subjects a type, event types valid patterns', () => {
    expect(apiKeyCreateSchema.safeParse({ ...base, subjects: [{ type: 'package' }], eventTypes: ['deploy.*'] }).success).toBe(true);
    for (const limits of [
      { subjects: [] },
      { subjects: [{ id: 'x' }] },
      { eventTypes: [] },
      { eventTypes: ['Deploy'] },
      { subjects: [{ type: 'a', extra: 1 }] },
    ]) {
      expect({ limits, ok: apiKeyCreateSchema.safeParse({ ...base, ...limits }).success }).toEqual({ limits, ok: false });
    }
  });
});

describe('herald keys create: --expires-in and --subject', () => {
  test('durations of whole days, hours, minutes or seconds', () => {
    expect(parse.duration('30d')).toBe(30 * 86_400_000);
    expect(parse.duration('12h')).toBe(12 * 3_600_000);
    expect(parse.duration('90m')).toBe(90 * 60_000);
    expect(parse.duration('45s')).toBe(45_000);
    for (const text of ['0d', '1.5d', '30', 'd', '30 d', '100ms', '-1h', '2w']) {
      expect(() => parse.duration(text)).toThrow(InvalidArgumentError);
    }
  });

  test('a subject is "type/id" or a whole "type", and repeats add up', () => {
    expect(parse.limitSubject('package/herald')).toEqual([pkg('herald')]);
    expect(parse.limitSubject('origin', [pkg('herald')])).toEqual([pkg('herald'), { type: 'origin' }]);
    expect(parse.limitSubject('repo/org/name')).toEqual([{ type: 'repo', id: 'org/name' }]);
    for (const text of ['', '/x', 'package/']) expect(() => parse.limitSubject(text)).toThrow(InvalidArgumentError);
  });
});
