import { matchesAny } from './matching';

/**
 * Resource limits of an API key (docs/api.md section 8): the key reads and writes only
 * events whose subject is one of `subjects` (a type, or a type and id) and whose type
 * matches one of `eventTypes` (patterns as subscriptions use them: `*`, `a.*`, `a.b`).
 * A missing list does not limit; a key with neither is unlimited. Pure: the API checks
 * single events with it, and src/store/key-limits.ts turns the same limits into a query.
 */
export interface KeyLimits {
  subjects?: { type: string; id?: string }[];
  eventTypes?: string[];
}

/** What of an event the limits look at. */
export interface LimitedFields {
  type: string;
  subject?: { type: string; id: string };
}

export function isLimited(limits: KeyLimits | undefined): limits is KeyLimits {
  return !!limits && (limits.subjects !== undefined || limits.eventTypes !== undefined);
}

export function subjectWithin(subjects: KeyLimits['subjects'], subject: LimitedFields['subject']): boolean {
  if (subjects === undefined) return true;
  // An event about no resource belongs to none of the key's resources.
  if (!subject) return false;
  return subjects.some((s) => s.type === subject.type && (s.id === undefined || s.id === subject.id));
}

/** Whether a key with these limits may see, or send, this event. */
export function withinLimits(limits: KeyLimits | undefined, event: LimitedFields): boolean {
  if (!isLimited(limits)) return true;
  if (limits.eventTypes !== undefined && !matchesAny(limits.eventTypes, event.type)) return false;
  return subjectWithin(limits.subjects, event.subject);
}

/**
 * The subjects without the redundant: `{type: "package", id: "a"}` says nothing more when
 * `{type: "package"}` is also there. Keeps the query's `$or` and `$in` lists short.
 */
export function normalizedSubjects(subjects: NonNullable<KeyLimits['subjects']>): NonNullable<KeyLimits['subjects']> {
  const wholeTypes = new Set(subjects.filter((s) => s.id === undefined).map((s) => s.type));
  const seen = new Set<string>();
  return subjects.filter((s) => {
    if (s.id !== undefined && wholeTypes.has(s.type)) return false;
    const key = JSON.stringify([s.type, s.id ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The limits as people read them, for problems and the CLI: `subjects package/herald, origin/*; types deploy.*`. */
export function describeLimits(limits: KeyLimits): string {
  const parts: string[] = [];
  if (limits.subjects) parts.push(`subjects ${limits.subjects.map((s) => `${s.type}/${s.id ?? '*'}`).join(', ')}`);
  if (limits.eventTypes) parts.push(`event types ${limits.eventTypes.join(', ')}`);
  return parts.join('; ');
}
