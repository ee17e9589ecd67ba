/** Herald's own events (`herald.subscription.disabled`, …) live under this namespace. */
export const HERALD_NAMESPACE = 'herald';

export function isHeraldType(eventType: string): boolean {
  return eventType === HERALD_NAMESPACE || eventType.startsWith(`${HERALD_NAMESPACE}.`);
}

/**
 * Which subscriptions want an event: a pattern is `*` (everything), `a.*` (the type `a`
 * and everything below it) or an exact type. Herald's own events are opt-in (`herald.*` or
 * an exact `herald.…` type): a `*` receiver built for the platform's events should not
 * start getting Herald's operational ones, just as Svix keeps operational webhooks apart.
 */
export function matchesPattern(pattern: string, eventType: string): boolean {
  if (pattern === '*') return !isHeraldType(eventType);
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -2);
    return eventType === prefix || eventType.startsWith(`${prefix}.`);
  }
  return pattern === eventType;
}

export function matchesAny(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((p) => matchesPattern(p, eventType));
}
