/** Temporal names of the public contract (section 5). Pure, so workflows may import it. */
export const DELIVER_EVENT_WORKFLOW = 'deliverEvent';

export function eventWorkflowId(tenant: string, eventId: string): string {
  return `event/${tenant}/${eventId}`;
}

export const RECOVER_DELIVERIES_WORKFLOW = 'recoverDeliveries';

export function replayWorkflowId(tenant: string, eventId: string, n: number): string {
  return `${eventWorkflowId(tenant, eventId)}/replay/${n}`;
}

export function recoverWorkflowId(tenant: string, subscriptionId: string, requestId: string): string {
  return `recover/${tenant}/${subscriptionId}/${requestId}`;
}
