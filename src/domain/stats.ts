import { DELIVERY_STATUSES, type DeliveryStatus } from './status';

/** Pure arithmetic behind the portal's charts and health figures. */

export const HOUR_MS = 60 * 60 * 1000;
/** The window every aggregate covers: the last 24 hours. */
export const STATS_HOURS = 24;

export type StatusCounts = Record<DeliveryStatus, number>;

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/** `$group` answers `{_id: status, n}` rows; statuses not seen count 0, unknown ones are ignored. */
export function countsOf(rows: readonly { _id: unknown; n: number }[]): StatusCounts {
  const counts = emptyCounts();
  for (const row of rows) if ((DELIVERY_STATUSES as readonly unknown[]).includes(row._id)) counts[row._id as DeliveryStatus] += row.n;
  return counts;
}

/**
 * The hour-long windows ending at the hour after `now` (so the current, partial hour is the
 * last bar), oldest first. Hours are whole UTC hours so two calls a minute apart agree.
 */
export function hourWindows(now: Date, hours = STATS_HOURS): { start: Date; end: Date }[] {
  const end = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  return Array.from({ length: hours }, (_, i) => {
    const start = end - (hours - i) * HOUR_MS;
    return { start: new Date(start), end: new Date(start + HOUR_MS) };
  });
}

/**
 * The share of attempted deliveries whose latest attempt succeeded: `retrying` counts as a
 * failure so far (its last attempt failed), `pending` and `cancelled` are not judged. Null
 * when nothing was attempted, which a portal shows as "no traffic" rather than 0 %.
 */
export function successRate(counts: StatusCounts): number | null {
  const judged = counts.succeeded + counts.failed + counts.retrying;
  return judged === 0 ? null : counts.succeeded / judged;
}
