import type { Filter } from 'mongodb';
import { isLimited, normalizedSubjects, type KeyLimits } from '../domain/key-limits';
import { HERALD_NAMESPACE } from '../domain/matching';
import type { EventDoc } from './index';

/**
 * A limited key's conditions on the events it reads (src/domain/key-limits.ts), as a query.
 *
 * Each limit is added twice. Exactly, under `$and`: the subjects as an `$or` of their
 * `{subject.type, subject.id?}`, the types as an `$or` of `$in` (exact types), an anchored
 * `$regex` (`a.*`) and `$not` of Herald's namespace (`*`), so the store returns only events
 * within the limits and a page still holds `limit` of them. And as top-level fields the
 * indexes are led by, where the query does not set them itself: `subject.type` (one value, or
 * `$in`), `subject.id` when every subject names one, `type` when every pattern is exact. These
 * are implied by the exact conditions, so they change nothing of the answer; they are there
 * for the planner: on MongoDB they bound a scan of `tenant_subject_time`,
 * `tenant_subject_type_time` or `tenant_type_time` (an `$in` of a few values is read as that
 * many ranges merged in sort order), which stops after `limit`. docs/guide.md ("Keys limited
 * to resources") says what FerretDB makes of them.
 */
export function withKeyLimits(filter: Filter<EventDoc>, limits: KeyLimits | undefined): Filter<EventDoc> {
  if (!isLimited(limits)) return filter;
  const conditions: Filter<EventDoc>[] = [];
  const bounds: Record<string, unknown> = {};

  if (limits.subjects) {
    const subjects = normalizedSubjects(limits.subjects);
    conditions.push({
      $or: subjects.map((s) => ({ 'subject.type': s.type, ...(s.id !== undefined && { 'subject.id': s.id }) })),
    });
    bounds['subject.type'] = oneOrIn([...new Set(subjects.map((s) => s.type))]);
    const ids = subjects.map((s) => s.id);
    if (ids.every((id) => id !== undefined)) bounds['subject.id'] = oneOrIn([...new Set(ids)]);
  }

  if (limits.eventTypes) {
    const exact = limits.eventTypes.filter((p) => p !== '*' && !p.endsWith('.*'));
    const alternatives: Filter<EventDoc>[] = [];
    if (exact.length) alternatives.push({ type: { $in: exact } });
    for (const p of limits.eventTypes.filter((p) => p.endsWith('.*'))) alternatives.push({ type: { $regex: prefixRegex(p.slice(0, -2)) } });
    // `*` is every type but Herald's own, as for a subscription.
    if (limits.eventTypes.includes('*')) alternatives.push({ type: { $not: new RegExp(prefixRegex(HERALD_NAMESPACE)) } });
    conditions.push({ $or: alternatives });
    if (exact.length === limits.eventTypes.length) bounds.type = oneOrIn(exact);
  }

  const limited: Record<string, unknown> = { ...filter };
  for (const [field, value] of Object.entries(bounds)) if (!(field in limited)) limited[field] = value;
  limited.$and = [...(filter.$and ?? []), ...conditions];
  return limited;
}

const oneOrIn = (values: string[]) => (values.length === 1 ? values[0] : { $in: values });

/** `a` and everything under `a.`, as `matchesPattern` reads `a.*`. */
function prefixRegex(prefix: string): string {
  return `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.|$)`;
}
