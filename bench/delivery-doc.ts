import type { DeliveryDoc } from '../src/store';
import { UNATTEMPTED } from '../src/store/deliveries';

/** A webhook delivery of one event as the worker stores it, for benches that fill the store themselves. */
export function deliveryDoc(tenant: string, eventId: string, subscriptionId: string, status: DeliveryDoc['status']): DeliveryDoc {
  const now = new Date();
  const workflowId = `event/${tenant}/${eventId}`;
  return {
    _id: `${workflowId}|${subscriptionId}`,
    tenant,
    eventId,
    workflowId,
    subscriptionId,
    channel: 'webhook',
    messageId: `msg_${eventId}`,
    status,
    ...UNATTEMPTED,
    createdAt: now,
    updatedAt: now,
  };
}
