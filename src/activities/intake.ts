import { mapConcurrent } from '../concurrency';
import type { StartEventsInput } from '../workflows/definitions';
import type { TemporalGateway } from './gateway';

/** Starts in flight at once per activity, as the API's own per request. */
const START_CONCURRENCY = 32;

export interface StartedEvents {
  started: number;
  /** Ids whose workflow had been started before. A retried try counts its first try's starts here. */
  duplicates: number;
}

/** The intake of batches accepted with `Prefer: respond-async` (src/workflows/start-events.ts). */
export function createIntakeActivities(deps: { gateway: TemporalGateway }) {
  return {
    /**
     * Starts each event's `deliverEvent` workflow, as the API does for a batch it answers once
     * started. Idempotent: Temporal refuses a second start of an event's id, so a retry after a
     * crash starts only what the first try did not.
     */
    async startEventWorkflows({ tenant, events, subscriptionsVersion }: StartEventsInput): Promise<StartedEvents> {
      const started = await mapConcurrent(events, START_CONCURRENCY, (event) =>
        deps.gateway.startEvent({ tenant, event, ...(subscriptionsVersion !== undefined && { subscriptionsVersion }) }),
      );
      const count = started.filter(Boolean).length;
      return { started: count, duplicates: events.length - count };
    },
  };
}

export type IntakeActivities = ReturnType<typeof createIntakeActivities>;
