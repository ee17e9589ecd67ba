import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { RecoverDeliveriesInput } from './definitions';

type Activities = ReturnType<typeof createActivities>;

const { recoverBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
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
