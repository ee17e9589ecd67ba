import { mapConcurrent } from '../concurrency';
import { countsOf, HOUR_MS, hourWindows, STATS_HOURS, type StatusCounts } from '../domain/stats';
import type { DeliveryDoc, Store } from './index';
import { WITHOUT_FIRST_ATTEMPT } from './deliveries';

/**
 * Aggregates for the portal. Each is bounded by a time window and starts from an index
 * (`tenant_time` on events, `tenant_created` and `tenant_subscription_status_created` on
 * deliveries), and uses only `$match` and `$group`: FerretDB has neither `$facet` nor the
 * date operators that would bucket hours in one query, so the 24 hours are 24 small counts.
 */

const QUERY_CONCURRENCY = 6;

export interface HourStats {
  start: Date;
  events: number;
  deliveries: StatusCounts;
}

async function statusCounts(store: Store, match: Record<string, unknown>): Promise<StatusCounts> {
  const rows = await store.deliveries
    .aggregate<{ _id: unknown; n: number }>([{ $match: match }, { $group: { _id: '$status', n: { $sum: 1 } } }])
    .toArray();
  return countsOf(rows);
}

/** Events that occurred and deliveries opened in each of the last 24 hours, by delivery status. */
export function hourlyStats(store: Store, tenant: string, now: Date): Promise<HourStats[]> {
  return mapConcurrent(hourWindows(now), QUERY_CONCURRENCY, async ({ start, end }) => {
    const [events, deliveries] = await Promise.all([
      store.events.countDocuments({ tenant, occurredAt: { $gte: start, $lt: end } }),
      statusCounts(store, { tenant, createdAt: { $gte: start, $lt: end } }),
    ]);
    return { start, events, deliveries };
  });
}

export interface SubscriptionCounts {
  subscriptionId: string;
  deliveries: StatusCounts;
}

/** Deliveries opened since `since`, per subscription and status, for every subscription that had any. */
export async function countsBySubscription(store: Store, tenant: string, since: Date): Promise<SubscriptionCounts[]> {
  const rows = await store.deliveries
    .aggregate<{ _id: { subscriptionId: string; status: string }; n: number }>([
      { $match: { tenant, createdAt: { $gte: since } } },
      { $group: { _id: { subscriptionId: '$subscriptionId', status: '$status' }, n: { $sum: 1 } } },
    ])
    .toArray();
  const bySubscription = new Map<string, { _id: unknown; n: number }[]>();
  for (const row of rows) {
    const list = bySubscription.get(row._id.subscriptionId) ?? [];
    list.push({ _id: row._id.status, n: row.n });
    bySubscription.set(row._id.subscriptionId, list);
  }
  return [...bySubscription].map(([subscriptionId, list]) => ({ subscriptionId, deliveries: countsOf(list) }));
}

/** One subscription's deliveries opened since `since`, by status. */
export function subscriptionCounts(store: Store, tenant: string, subscriptionId: string, since: Date): Promise<StatusCounts> {
  return statusCounts(store, { tenant, subscriptionId, createdAt: { $gte: since } });
}

/** The subscription's delivery whose last attempt failed most recently (retrying or failed). */
export function lastFailedDelivery(store: Store, tenant: string, subscriptionId: string): Promise<DeliveryDoc | null> {
  return store.deliveries.findOne(
    { subscriptionId, status: { $in: ['retrying', 'failed'] }, tenant },
    { sort: { updatedAt: -1 }, ...WITHOUT_FIRST_ATTEMPT },
  );
}

export const statsSince = (now: Date) => new Date(now.getTime() - STATS_HOURS * HOUR_MS);
