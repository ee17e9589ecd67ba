import { ApplicationFailure } from '@temporalio/activity';
import { LRUCache } from 'lru-cache';
import type { HeraldEvent } from '../domain/schemas';
import type { Store, SubscriptionDoc } from '../store';
import { eventKey, eventOf, findEvent } from '../store/events';
import { activeSubscriptions, subscriptionsVersion } from '../store/subscriptions';

/** The worker's read caches, shared by its activities: what the hot path would otherwise read again. */
export interface ActivityCaches {
  /** A tenant's active subscriptions, as matching reads them. */
  matchable(tenant: string): Promise<SubscriptionDoc[]>;
  /** A recorded event; fails (not retryable) when it is not in the audit. */
  loadEvent(tenant: string, id: string): Promise<HeraldEvent>;
}

export function createActivityCaches(store: Store): ActivityCaches {
  // Events are immutable once recorded, so every attempt after the first reads them from memory.
  const events = new LRUCache<string, HeraldEvent>({ max: 10_000 });

  // Each tenant's active subscriptions, kept while the tenant's subscriptions version holds:
  // matching an event then costs one read by _id instead of reading every subscription.
  const tenantSubscriptions = new LRUCache<string, { version: number; subs: SubscriptionDoc[] }>({
    maxSize: 100_000, // subscriptions held in all, whatever the number of tenants
    sizeCalculation: (entry) => entry.subs.length + 1,
  });

  return {
    async matchable(tenant) {
      const version = await subscriptionsVersion(store, tenant); // first: see subscriptionsVersion
      const cached = tenantSubscriptions.get(tenant);
      if (cached?.version === version) return cached.subs;
      const subs = await activeSubscriptions(store, tenant);
      tenantSubscriptions.set(tenant, { version, subs });
      return subs;
    },

    async loadEvent(tenant, id) {
      const key = eventKey(tenant, id);
      const cached = events.get(key);
      if (cached) return cached;
      const doc = await findEvent(store, tenant, id);
      if (!doc) throw ApplicationFailure.nonRetryable(`event ${key} is not in the audit`, 'EventMissing');
      const event = eventOf(doc);
      events.set(key, event);
      return event;
    },
  };
}
