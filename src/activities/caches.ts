import { ApplicationFailure } from '@temporalio/activity';
import { LRUCache } from 'lru-cache';
import { compileFilter, type EventPredicate } from '../domain/filter';
import type { HeraldEvent } from '../domain/schemas';
import type { Store, SubscriptionDoc } from '../store';
import { eventKey, eventOf, findEvent, isKeyMarkedForPurge } from '../store/events';
import { sharedRead } from '../store/shared-read';
import { activeSubscriptions, filterOf, findSubscription, subscriptionsVersion } from '../store/subscriptions';

/** An active subscription as matching reads it. */
export interface MatchableSubscription {
  doc: SubscriptionDoc;
  /** Whether an event passes the subscription's filter; null when it has none. */
  filter: EventPredicate | null;
}

/** The worker's read caches, shared by its activities: what the hot path would otherwise read again. */
export interface ActivityCaches {
  /**
   * A tenant's active subscriptions, as matching reads them, and the version of the tenant's
   * subscriptions they are: those held when they are at least `atLeast` (a version the API read
   * after any change answered before the caller's event was sent), else as of a read of the
   * version now.
   */
  matchable(tenant: string, atLeast?: number): Promise<{ version: number; subs: MatchableSubscription[] }>;
  /** One subscription as it is now, active or not; null when it was deleted. */
  subscription(tenant: string, id: string): Promise<SubscriptionDoc | null>;
  /**
   * One subscription as it was at `version`, without a read while the cache holds that version:
   * a delivery's first attempt, moments after its event was matched at that version, sends as if
   * it had run at that moment. Else as `subscription`.
   */
  subscriptionAt(tenant: string, id: string, version: number): Promise<SubscriptionDoc | null>;
  /** A recorded event; fails (not retryable) when it is not in the audit. */
  loadEvent(tenant: string, id: string): Promise<HeraldEvent>;
  /** Keeps an event the worker has just recorded, so that its attempts need not read it. */
  rememberEvent(tenant: string, event: HeraldEvent): void;
  /** Whether a purge has marked the event, read after the call (see `sharedRead`). */
  markedForPurge(tenant: string, id: string): Promise<boolean>;
  /**
   * Drops the tenant's subscriptions after this worker changed one (a disable): events accepted
   * before the change would otherwise match on them here (`matchable`'s `atLeast`).
   */
  forgetSubscriptions(tenant: string): void;
}

/**
 * How long a tenant's subscriptions are kept whatever their version says. A change's version is
 * raised in a second write after the change's own; when that write fails (the API answers 500,
 * and a retried request finds the change made and raises nothing), no version tells the workers,
 * and they would go on with what they hold until the tenant's next change. This bounds that.
 */
const SUBSCRIPTIONS_MAX_AGE_MS = 60_000;

export function createActivityCaches(store: Store, subscriptionsMaxAgeMs = SUBSCRIPTIONS_MAX_AGE_MS): ActivityCaches {
  // Events are immutable once recorded, so every attempt after the first reads them from memory.
  const events = new LRUCache<string, HeraldEvent>({ max: 10_000 });

  // Each tenant's active subscriptions, kept while the tenant's subscriptions version holds:
  // matching an event then costs one read by _id instead of reading every subscription.
  const tenantSubscriptions = new LRUCache<string, { version: number; subs: MatchableSubscription[] }>({
    maxSize: 100_000, // subscriptions held in all, whatever the number of tenants
    sizeCalculation: (entry) => entry.subs.length + 1,
    ttl: subscriptionsMaxAgeMs,
  });
  // The events and attempts of a tenant in flight at one moment share one read of its version.
  const versionOf = sharedRead((tenant) => subscriptionsVersion(store, tenant));
  // The attempts of one event ask for its mark together.
  const markOf = sharedRead((key) => isKeyMarkedForPurge(store, key));

  // The events and attempts that find a tenant at a version not yet loaded share one load of
  // it: while subscriptions are created in bulk, each creation's own event would otherwise read
  // every subscription of the tenant again, all of them at the same version.
  const loads = new Map<string, Promise<{ version: number; subs: MatchableSubscription[] }>>();
  // How often each tenant's subscriptions were forgotten: a load under way when they were ends
  // with what it read before the change, and must not be held after it.
  const forgets = new Map<string, number>();

  async function matchable(tenant: string, atLeast?: number): Promise<{ version: number; subs: MatchableSubscription[] }> {
    const held = tenantSubscriptions.get(tenant);
    if (atLeast !== undefined && held && held.version >= atLeast) return held;
    const version = await versionOf(tenant); // first: see subscriptionsVersion
    const cached = tenantSubscriptions.get(tenant);
    if (cached?.version === version) return cached;
    const key = `${version}:${tenant}`;
    let load = loads.get(key);
    if (!load) {
      // Read after the version, as for a caller alone: a load started before another caller
      // read the same version still holds every change up to it (versions only rise).
      const forgotten = forgets.get(tenant);
      load = activeSubscriptions(store, tenant)
        .then((docs) => {
          const entry = { version, subs: docs.map(matchableOf) };
          // A load of an older version that ends last does not replace a newer one (a tenant's
          // version only rises: bumpTenantVersion).
          const newer = (tenantSubscriptions.get(tenant)?.version ?? -Infinity) < version;
          if (newer && forgets.get(tenant) === forgotten) tenantSubscriptions.set(tenant, entry);
          return entry;
        })
        .finally(() => loads.delete(key));
      loads.set(key, load);
    }
    return load;
  }

  async function subscription(tenant: string, id: string): Promise<SubscriptionDoc | null> {
    // Every change an attempt depends on raises the version, so an active subscription of
    // the current version is the stored one; a disabled or deleted one is read.
    const active = (await matchable(tenant)).subs.find((s) => s.doc._id === id);
    return active?.doc ?? findSubscription(store, tenant, id);
  }

  return {
    matchable,
    subscription,

    forgetSubscriptions(tenant) {
      tenantSubscriptions.delete(tenant);
      forgets.set(tenant, (forgets.get(tenant) ?? 0) + 1);
    },

    async subscriptionAt(tenant, id, version) {
      const cached = tenantSubscriptions.get(tenant);
      const active = cached?.version === version ? cached.subs.find((s) => s.doc._id === id) : undefined;
      return active?.doc ?? subscription(tenant, id);
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

    rememberEvent(tenant, event) {
      events.set(eventKey(tenant, event.id), event);
    },

    markedForPurge: (tenant, id) => markOf(eventKey(tenant, id)),
  };
}

/**
 * Filters are compiled here, once per load of a tenant's subscriptions, not once per event. The
 * API saved only filters that compile, so a throw here (a filter written around the API) fails
 * the match, which Temporal retries in sight, rather than delivering past an unreadable filter.
 */
function matchableOf(doc: SubscriptionDoc): MatchableSubscription {
  const filter = filterOf(doc);
  return { doc, filter: filter === undefined ? null : compileFilter(filter) };
}
