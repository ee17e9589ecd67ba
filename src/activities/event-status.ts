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
  if (!(await setStatusOfRun(store, tenant, eventId, status, ownRun)).replayed) return;
  const deliveries = await deliveriesForEvent(store, tenant, eventId);
  await setEventStatus(store, tenant, eventId, eventStatusOf(currentDeliveries(deliveries)));
}
