/**
 * Which subscriptions want an event: a pattern is `*` (everything), `a.*` (the type `a`
 * and everything below it) or an exact type.
 */
export function matchesPattern(pattern: string, eventType: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -2);
    return eventType === prefix || eventType.startsWith(`${prefix}.`);
  }
  return pattern === eventType;
}

export function matchesAny(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((p) => matchesPattern(p, eventType));
}
