import { proxyActivities } from '@temporalio/workflow';
import type { IntakeActivities, StartedEvents } from '../activities/intake';
import { ACTIVITY_RETRY, type StartEventsInput } from './definitions';

const { startEventWorkflows } = proxyActivities<IntakeActivities>({
  startToCloseTimeout: '2m',
  // It heartbeats with each start: a worker that died in it is noticed in seconds, not minutes.
  heartbeatTimeout: '30s',
  retry: ACTIVITY_RETRY,
});

/** Events per activity: each one's starts take about a second, well within its timeout. */
export const EVENTS_PER_START_ACTIVITY = 100;

/**
 * A batch accepted with `Prefer: respond-async`: the API answered once this workflow started,
 * with the batch in its input, so the batch is as durable as an event whose own workflow
 * started. It starts each event's `deliverEvent` workflow, a slice at a time, retried until
 * Temporal takes them: an event's workflow then records, matches and delivers it as any other.
 */
export async function startEvents(input: StartEventsInput): Promise<StartedEvents> {
  const total: StartedEvents = { started: 0, duplicates: 0 };
  for (let from = 0; from < input.events.length; from += EVENTS_PER_START_ACTIVITY) {
    const slice = await startEventWorkflows({ ...input, events: input.events.slice(from, from + EVENTS_PER_START_ACTIVITY) });
    total.started += slice.started;
    total.duplicates += slice.duplicates;
  }
  return total;
}
