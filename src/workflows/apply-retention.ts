import { continueAsNew, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../activities/maintenance';
import { ACTIVITY_RETRY } from './definitions';

const { deleteExpiredEvents, deleteExpiredIngestLog } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '5m',
  retry: ACTIVITY_RETRY,
});

export interface ApplyRetentionInput {
  retentionDays: number;
  /** How long the ingestion log keeps refused requests; absent in schedules made before it existed. */
  ingestLogDays?: number;
  /** Fixed by the first run, so the runs a long deletion continues into agree on it. */
  before?: string;
  /** The same for the ingestion log, while a run hands a long deletion of it on. */
  logBefore?: string;
  deleted?: number;
}

const BATCH_SIZE = 1000;
const BATCHES_PER_RUN = 50;

/**
 * Started by the `herald-retention` Schedule: deletes the ingestion log older than
 * `HERALD_INGEST_LOG_DAYS`, then events older than `HERALD_RETENTION_DAYS`, with their deliveries and attempts, a bounded batch at a time,
 * continuing as new so any backlog keeps the history small. Events still delivering stay.
 */
export async function applyRetention(input: ApplyRetentionInput): Promise<{ deleted: number; before: string }> {
  const before = input.before ?? new Date(workflowInfo().startTime.getTime() - input.retentionDays * 86_400_000).toISOString();
  let deleted = input.deleted ?? 0;
  if (input.logBefore !== undefined || (input.before === undefined && input.ingestLogDays !== undefined)) {
    const logBefore = input.logBefore ?? new Date(workflowInfo().startTime.getTime() - input.ingestLogDays! * 86_400_000).toISOString();
    if (patched('retention-log-bounded')) {
      // A backlog of the log (a worker down for days, a shorter HERALD_INGEST_LOG_DAYS) continues
      // as new like the events' does: one run's history stays small whatever its size.
      for (let batch = 0; ; batch++) {
        if (batch === BATCHES_PER_RUN) return continueAsNew<typeof applyRetention>({ ...input, before, logBefore });
        if ((await deleteExpiredIngestLog({ before: logBefore, limit: BATCH_SIZE })) < BATCH_SIZE) break;
      }
    } else {
      while ((await deleteExpiredIngestLog({ before: logBefore, limit: BATCH_SIZE })) === BATCH_SIZE);
    }
  }
  for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
    const count = await deleteExpiredEvents({ before, limit: BATCH_SIZE });
    deleted += count;
    if (count < BATCH_SIZE) return { deleted, before };
  }
  return continueAsNew<typeof applyRetention>({ ...input, before, logBefore: undefined, deleted });
}
