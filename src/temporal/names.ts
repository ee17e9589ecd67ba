/** Temporal names of the public contract (docs/api.md section 5). Pure, so workflows may import it. */
export const DELIVER_EVENT_WORKFLOW = 'deliverEvent';

export function eventWorkflowId(tenant: string, eventId: string): string {
  return `event/${tenant}/${eventId}`;
}

export const RECOVER_DELIVERIES_WORKFLOW = 'recoverDeliveries';

/** A batch accepted with `Prefer: respond-async`: one workflow that starts its events' workflows. */
export const START_EVENTS_WORKFLOW = 'startEvents';

/** The tenant's batch slots (src/temporal/event-batches.ts): one run at a time holds each. */
export function eventBatchWorkflowId(tenant: string, slot: number): string {
  return `events-batch/${tenant}/${slot}`;
}

export function replayWorkflowId(tenant: string, eventId: string, n: number): string {
  return `${eventWorkflowId(tenant, eventId)}/replay/${n}`;
}

export function recoverWorkflowId(tenant: string, subscriptionId: string, requestId: string): string {
  return `recover/${tenant}/${subscriptionId}/${requestId}`;
}

export const COLLECT_DIGEST_WORKFLOW = 'collectDigest';

/** One digest workflow per subscription, fed by signal-with-start. */
export function digestWorkflowId(tenant: string, subscriptionId: string): string {
  return `digest/${tenant}/${subscriptionId}`;
}

/** The digest event's id: the subscription and the digest's number (`herald.digest` events). */
export function digestEventId(subscriptionId: string, windowOpenedAtMs: number, sequence: number): string {
  return `digest:${subscriptionId}:${windowOpenedAtMs}:${sequence}`;
}
