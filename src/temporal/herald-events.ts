import type { Client } from '@temporalio/client';
import type { HeraldEvent } from '../domain/schemas';
import { startDeliverEvent } from './deliver-event-client';
import { eventWorkflowId } from './names';

/** Starts the workflow of one of Herald's own events, once: its id names it. */
export async function emitEvent(client: Client, taskQueue: string, tenant: string, event: HeraldEvent): Promise<void> {
  await startDeliverEvent(client, taskQueue, eventWorkflowId(tenant, event.id), { tenant, event });
}
