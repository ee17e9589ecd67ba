import { Context } from '@temporalio/activity';
import { mapConcurrent } from '../concurrency';
import type { Store } from '../store';
import { existingEventIds } from '../store/events';
import type { StartEventsInput } from '../workflows/definitions';
import type { TemporalGateway } from './gateway';

/** Starts in flight at once per activity, as the API's own per request. */
const START_CONCURRENCY = 32;

export interface StartedEvents {
  started: number;
  /** Ids used before: in the audit, or started before (a retried try counts its first try's starts here). */
  duplicates: number;
}

/** The intake of batches accepted with `Prefer: respond-async` (src/workflows/start-events.ts). */
export function createIntakeActivities(deps: { store: Store; gateway: TemporalGateway }) {
  return {
    /**
     * Starts each event's `deliverEvent` workflow, as the API does for a batch it answers once
     * started: ids the audit holds (older than Temporal's retention) are not started, and
     * Temporal refuses a second start of the others, so a retry after a crash starts only what
     * the first try did not. It heartbeats with each start, so a worker that died in it is
     * noticed within the heartbeat timeout, not the activity's.
     */
    async startEventWorkflows({ tenant, events, subscriptionsVersion }: StartEventsInput): Promise<StartedEvents> {
      // The batch's own run, which each event's run keeps with the event for a purge.
      const batch = Context.current().info.workflowExecution;
      const known = await existingEventIds(
        deps.store,
        tenant,
        events.map((e) => e.id),
      );
      const started = await mapConcurrent(
        events.filter((e) => !known.has(e.id)),
        START_CONCURRENCY,
        async (event) => {
          const fresh = await deps.gateway.startEvent({
            tenant,
            event,
            ...(batch && { batch: { workflowId: batch.workflowId, runId: batch.runId } }),
            ...(subscriptionsVersion !== undefined && { subscriptionsVersion }),
          });
          Context.current().heartbeat();
          return fresh;
        },
      );
      const count = started.filter(Boolean).length;
      return { started: count, duplicates: events.length - count };
    },
  };
}

export type IntakeActivities = ReturnType<typeof createIntakeActivities>;
