import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../activities/maintenance';
import { ACTIVITY_RETRY, type RecoverDeliveriesInput } from './definitions';

const { recoverBatch } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: ACTIVITY_RETRY,
});

/** Deliveries handed on per batch, and batches per run before continuing as new. */
const BATCH_SIZE = 200;
const BATCHES_PER_RUN = 25;

/**
 * `POST /v1/subscriptions/{id}/recover`: sends `retry` to every workflow holding a failed
 * delivery of the subscription in the window, a bounded batch at a time, continuing as new
 * so that any number of failed deliveries keeps this history small. Each event's own
 * workflow then delivers, with its usual retries and audit.
 */
export async function recoverDeliveries(input: RecoverDeliveriesInput): Promise<{ recovered: number }> {
  let { after, recovered = 0 } = input;
  for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
    const page = await recoverBatch({
      tenant: input.tenant,
      subscriptionId: input.subscriptionId,
      since: input.since,
      until: input.until,
      requestedBy: input.requestedBy,
      ...(after && { after }),
      limit: BATCH_SIZE,
    });
    recovered += page.count;
    if (!page.after) return { recovered };
    after = page.after;
  }
  return continueAsNew<typeof recoverDeliveries>({ ...input, after, recovered });
}
