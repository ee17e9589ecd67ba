/** Temporal names of the public contract (section 5). Pure, so workflows may import it. */
export const DELIVER_EVENT_WORKFLOW = 'deliverEvent';

export function eventWorkflowId(tenant: string, eventId: string): string {
  return `event/${tenant}/${eventId}`;
}
