import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import type { applyRetention } from '../workflows/apply-retention';

export const APPLY_RETENTION_WORKFLOW = 'applyRetention';
/** How often retention runs; a run that finds nothing old ends after one query. */
const EVERY = '1h' as const;

export function retentionScheduleId(taskQueue: string): string {
  return `herald-retention/${taskQueue}`;
}

/**
 * Creates the Schedule that applies `HERALD_RETENTION_DAYS`, or brings an existing one up to
 * date: every worker calls this at start, so a changed setting takes effect with the next
 * worker. Its runs show in the Web UI as `applyRetention` workflows.
 */
export async function ensureRetentionSchedule(
  client: Client,
  taskQueue: string,
  retentionDays: number,
  ingestLogDays: number,
): Promise<string> {
  const scheduleId = retentionScheduleId(taskQueue);
  const spec: ScheduleSpec = { intervals: [{ every: EVERY }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: APPLY_RETENTION_WORKFLOW,
    workflowId: `retention/${taskQueue}`,
    taskQueue,
    args: [{ retentionDays, ingestLogDays }] as Parameters<typeof applyRetention>,
  };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  }
  return scheduleId;
}
