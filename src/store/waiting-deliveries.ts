import { mapConcurrent } from '../concurrency';
import type { Store } from './index';
import { workflowsWaitingOn } from './deliveries';

/** Deliveries of a subscription woken at once when it stops taking them, rather than at their next attempt. */
const WAKE_LIMIT = 1000;
const WAKE_CONCURRENCY = 16;

/**
 * Wakes the runs whose deliveries to a subscription that was just disabled or deleted wait for
 * their next attempt (up to hours away): each attempts now, finds the subscription gone, and
 * fails, so its event ends instead of showing `delivering` until then. A run that closed
 * meanwhile has nothing waiting, so its refusal is ignored.
 */
export async function wakeWaitingDeliveries(
  store: Store,
  subscriptionId: string,
  wake: (workflowId: string) => Promise<unknown>,
): Promise<void> {
  const waiting = await workflowsWaitingOn(store, subscriptionId, WAKE_LIMIT);
  await mapConcurrent(waiting, WAKE_CONCURRENCY, (workflowId) => wake(workflowId).catch(() => undefined));
}
