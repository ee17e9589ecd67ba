import type { Logger } from '../logger';
import type { Store, SubscriptionDoc } from '../store';
import { wakeWaitingDeliveries } from '../store/waiting-deliveries';
import { clearFailing, disableSubscription, markFailing } from '../store/subscriptions';
import { subscriptionChangeEvent } from '../api/change-events';
import type { ActivityCaches } from './caches';
import type { TemporalGateway } from './gateway';

/**
 * A subscription's health as its attempts report it: the failing streak, and auto-disable
 * after a 410 or a streak longer than `HERALD_DISABLE_AFTER`.
 */

export interface HealthDeps {
  store: Store;
  gateway: TemporalGateway;
  caches: ActivityCaches;
  logger: Logger;
  /** Failing without one success this long disables a subscription (`HERALD_DISABLE_AFTER`). */
  disableAfterMs: number;
}

export function createSubscriptionHealth(deps: HealthDeps) {
  const { store } = deps;

  /**
   * Disables a subscription, announces it with `herald.subscription.disabled`, and wakes its
   * waiting deliveries so they fail now instead of at their next scheduled attempt.
   */
  async function disable(sub: SubscriptionDoc, reason: string, now: Date, failingSince?: Date): Promise<boolean> {
    let disabled;
    try {
      disabled = await disableSubscription(store, sub._id, reason, now, failingSince);
    } finally {
      // Also when the disable's version raise failed after its write: no version tells this worker then.
      deps.caches.forgetSubscriptions(sub.tenant);
    }
    if (!disabled) return false;
    deps.logger.warn({ subscriptionId: sub._id, reason }, 'subscription disabled');
    // Now or never: a retry of this attempt would find the subscription disabled and close its
    // delivery without coming back here, so a failure thrown now would also lose the attempt's
    // record (the receiver's 410) and the wake-up below. Logged instead, as the API's own
    // announcements are when Temporal cannot be reached (the client has retried it already).
    const event = subscriptionChangeEvent('disabled', disabled, 'herald', disabled.disabledAt!);
    await deps.gateway.emit(disabled.tenant, event).catch((err: unknown) => {
      deps.logger.error({ err, subscriptionId: sub._id, eventId: event.id }, 'could not emit herald.subscription.disabled');
    });
    await wakeWaitingDeliveries(store, sub._id, (workflowId) =>
      deps.gateway.retry(workflowId, { subscriptionId: sub._id, requestedBy: 'herald', onlyIfWaiting: true }),
    ).catch((err: unknown) =>
      deps.logger.error({ err, subscriptionId: sub._id }, 'could not wake the deliveries waiting on a disabled subscription'),
    );
    return true;
  }

  return {
    /**
     * Keeps the subscription's failing streak, and disables it after 410 or a long enough
     * streak. True when this attempt disabled it.
     */
    async track(sub: SubscriptionDoc, succeeded: boolean, gone: boolean, at: Date): Promise<boolean> {
      if (!sub.active) return false; // a ping to a disabled subscription changes nothing
      if (succeeded) {
        if (sub.failingSince) await clearFailing(store, sub.tenant, sub._id);
        return false;
      }
      if (gone) return disable(sub, 'endpoint answered 410 Gone', at);
      const since = sub.failingSince ?? at;
      if (!sub.failingSince) await markFailing(store, sub.tenant, sub._id, at);
      if (at.getTime() - since.getTime() < deps.disableAfterMs) return false;
      // `sub` was read before the send: the streak must still be the stored one.
      return disable(sub, `failing without a success since ${since.toISOString()}`, at, since);
    },
  };
}

export type SubscriptionHealth = ReturnType<typeof createSubscriptionHealth>;
