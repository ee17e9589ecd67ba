import { isHeraldType, matchesAny, matchesPattern } from '../../src/domain/matching';

describe('matchesPattern', () => {
  test('"*" matches every event type, however deep', () => {
    for (const type of ['a', 'package.promoted', 'a.b.c.d']) {
      expect(matchesPattern('*', type)).toBe(true);
    }
  });

  test('a prefix pattern matches the type itself and everything below it', () => {
    expect(matchesPattern('package.*', 'package')).toBe(true);
    expect(matchesPattern('package.*', 'package.promoted')).toBe(true);
    expect(matchesPattern('package.*', 'package.version.deleted')).toBe(true);
  });

  test('a prefix pattern does not match a type that merely starts with the same letters', () => {
    expect(matchesPattern('package.*', 'packages')).toBe(false);
    expect(matchesPattern('package.*', 'packages.promoted')).toBe(false);
    expect(matchesPattern('pack.*', 'package.promoted')).toBe(false);
  });

  test('a prefix pattern does not match the parent or a sibling of its prefix', () => {
    expect(matchesPattern('package.version.*', 'package')).toBe(false);
    expect(matchesPattern('package.version.*', 'package.promoted')).toBe(false);
  });

  test('an exact pattern matches only that exact type', () => {
    expect(matchesPattern('package.promoted', 'package.promoted')).toBe(true);
    expect(matchesPattern('package.promoted', 'package')).toBe(false);
    expect(matchesPattern('package.promoted', 'package.promoted.late')).toBe(false);
    expect(matchesPattern('package.promoted', 'package.deleted')).toBe(false);
  });

  test('an exact pattern is case-sensitive', () => {
    expect(matchesPattern('package.promoted', 'Package.Promoted')).toBe(false);
  });

  test('a "*" inside a pattern is not a wildcard', () => {
    expect(matchesPattern('a*', 'ab')).toBe(false);
    expect(matchesPattern('*.b', 'a.b')).toBe(false);
  });
});

describe('matchesAny', () => {
  test('is true when at least one pattern matches', () => {
    expect(matchesAny(['user.added', 'build.*'], 'build.finished')).toBe(true);
    expect(matchesAny(['user.added', 'build.*'], 'user.added')).toBe(true);
  });

  test('is false when no pattern matches', () => {
    expect(matchesAny(['user.added', 'build.*'], 'user.removed')).toBe(false);
  });

  test('an empty list of patterns matches nothing', () => {
    expect(matchesAny([], 'anything')).toBe(false);
  });
});

describe("Herald's own events", () => {
  test('"*" does not match them: they are opt-in', () => {
    expect(matchesPattern('*', 'herald.subscription.disabled')).toBe(false);
    expect(matchesPattern('*', 'herald')).toBe(false);
    expect(matchesPattern('*', 'heraldry.added')).toBe(true);
  });

  test('"herald.*" and exact types match them', () => {
    expect(matchesPattern('herald.*', 'herald.subscription.disabled')).toBe(true);
    expect(matchesPattern('herald.subscription.*', 'herald.subscription.created')).toBe(true);
    expect(matchesPattern('herald.ping', 'herald.ping')).toBe(true);
  });

  test('isHeraldType tells the namespace apart from look-alikes', () => {
    expect(isHeraldType('herald.ping')).toBe(true);
    expect(isHeraldType('heralds.ping')).toBe(false);
    expect(isHeraldType('build.herald')).toBe(false);
  });
});
