import type { Client, Connection } from '@temporalio/client';
import type { HeraldEvent } from '../domain/schemas';
import type { Logger } from '../logger';
import { emitEvent } from '../temporal/herald-events';
import { callTemporal } from './temporal-call';

export interface AnnounceDeps {
  temporal: Client;
  connection: Connection;
  taskQueue: string;
  logger: Logger;
}

/**
 * Emits one of Herald's own `herald.*` events for a change the API has already made. The
 * change stands when Temporal cannot be reached; the audit event is then missing, and the
 * log says so.
 */
export async function announce(deps: AnnounceDeps, tenant: string, event: HeraldEvent): Promise<void> {
  try {
    await callTemporal(deps.connection, () => emitEvent(deps.temporal, deps.taskQueue, tenant, event));
  } catch (err) {
    deps.logger.error({ err, eventId: event.id, type: event.type }, 'could not emit a herald.* event');
  }
}
