import { proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { createFloorActivities } from './activities';

/**
 * The floor of `make bench`: what any engine built on Temporal spends to turn one event into
 * F webhook POSTs: one workflow, F local activities, nothing else (no store, no matching, no
 * audit). Herald's own workflow does this plus its store steps, so the gap between the two is
 * what Herald adds.
 */

export const FLOOR_TASK_QUEUE = 'bench-floor';

/** As Herald's local delivery tier (src/workflows/deliver-event.ts), so both time out and retry alike. */
function deliveryTier(timeoutMs: number) {
  return proxyLocalActivities<ReturnType<typeof createFloorActivities>>({
    startToCloseTimeout: timeoutMs + 60_000,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
}

/** The event as a webhook body carries it; the receiver reads `data.run` and `data.sentAt` back. */
export interface FloorEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  [field: string]: unknown;
}

export interface FloorEventInput {
  url: string;
  /** How long the receiver may take to answer, as a Herald subscription's `timeoutMs`. */
  timeoutMs: number;
  /** How many deliveries of the event to make (0: the workflow only starts and closes). */
  fanout: number;
  event: FloorEvent;
}

/** One event's F deliveries, all at once, each with a message id of its own. */
export async function floorDeliver({ url, timeoutMs, fanout, event }: FloorEventInput): Promise<void> {
  const { workflowId } = workflowInfo();
  const { postWebhook } = deliveryTier(timeoutMs);
  await Promise.all(Array.from({ length: fanout }, (_, k) => postWebhook({ url, timeoutMs, messageId: `msg_${workflowId}_${k}`, event })));
}
