import { Context } from '@temporalio/activity';
import { currentDeliveries, eventStatusOf, type EventStatus } from '../domain/status';
import type { Store } from '../store';
import { deliveriesForEvent } from '../store/deliveries';
import { setEventStatus, setStatusOfRun } from '../store/events';
import { eventWorkflowId } from '../temporal/names';

/**
 * Stores an event's status so lists can filter on it: the status of the run that ends, or,
 * once the event was replayed, the one its runs give together (the newest delivery per
 * subscription).
 */
export async function recordEventStatus(store: Store, tenant: string, eventId: string, status: EventStatus): Promise<void> {
  // The run that ends is the event's own, or a replay (whose workflow id adds `/replay/{n}`).
  const ownRun = Context.current().info.workflowExecution?.workflowId === eventWorkflowId(tenant, eventId);
  await recordStatusOfRun(store, tenant, eventId, status, ownRun);
}

/**
 * `recordEventStatus` for the run given. Two runs of a replayed event that end together each
 * combine the deliveries they read: one that read another's delivery still open may write its
 * `delivering` after the other wrote the final status. So each reads again after its write and
 * writes again until what it read is what it wrote: the last write is checked by a read after it.
 */
export async function recordStatusOfRun(
  store: Store,
  tenant: string,
  eventId: string,
  status: EventStatus,
  ownRun: boolean,
): Promise<void> {
  if (!(await setStatusOfRun(store, tenant, eventId, status, ownRun)).replayed) return;
  let written: EventStatus | undefined;
  for (;;) {
    const combined = eventStatusOf(currentDeliveries(await deliveriesForEvent(store, tenant, eventId)));
    if (combined === written) return;
    await setEventStatus(store, tenant, eventId, combined);
    written = combined;
  }
}
