import {
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { DeliveryTarget } from '../activities/types';
import type { DeliveryView, EventView } from '../domain/schemas';
import { eventStatusOf } from '../domain/status';
import { statusQuery, type DeliverEventInput } from './definitions';
import { HeraldStatus, HeraldSubscriptionIds, indexableSubscriptionIds } from '../temporal/search-attributes';

type Activities = ReturnType<typeof createActivities>;

/**
 * Store tier: audit reads and writes. Retried without limit, so an outage of the store
 * delays deliveries instead of losing them.
 */
const store = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * Delivery tier: one activity execution per attempt. The activity itself decides each
 * next delay from the subscription's schedule (`nextRetryDelay`), so retries happen on the
 * server and add nothing to this workflow's history. It heartbeats while the receiver
 * answers, so a lost worker is noticed within seconds and a cancel aborts the request.
 */
function deliveryTier(timeoutMs: number) {
  return proxyActivities<Activities>({
    // The receiver's timeout plus room for the store reads and writes around the request.
    startToCloseTimeout: timeoutMs + 60_000,
    heartbeatTimeout: '5s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
}


function pendingView(target: DeliveryTarget): DeliveryView {
  return {
    subscriptionId: target.subscriptionId,
    channel: target.channel,
    status: 'pending',
    attempts: 0,
    lastAttemptAt: null,
    lastResponseStatus: null,
    nextAttemptAt: null,
    error: null,
  };
}

/**
 * One ingested event: record it in the audit, find the subscriptions that want it, and
 * deliver to each concurrently. Running as its own workflow, an event survives crashes of
 * any process from the moment the API answered 202.
 */
export async function deliverEvent(input: DeliverEventInput): Promise<EventView> {
  const { tenant, event } = input;
  const deliveries: DeliveryView[] = [];
  let matched = false; // until matching ran, "no deliveries" means "not known yet", not "delivered"
  const view = (): EventView => ({ event, status: matched ? eventStatusOf(deliveries) : 'delivering', deliveries });
  setHandler(statusQuery, view);

  const { workflowId, runId } = workflowInfo();
  const recorded = await store.recordEvent({ tenant, event, workflowId, runId });
  if (recorded === 'duplicate') {
    // The audit outlived Temporal's retention of the first run: this run delivers nothing.
    matched = true;
    return view();
  }

  const targets = await store.matchSubscriptions({ tenant, eventId: event.id, eventType: event.type, workflowId });
  deliveries.push(...targets.map(pendingView));
  matched = true;
  upsertSearchAttributes([
    { key: HeraldSubscriptionIds, value: indexableSubscriptionIds(targets.map((t) => t.subscriptionId)) },
  ]);

  await Promise.all(
    targets.map(async (target, i) => {
      const summary = await deliveryTier(target.timeoutMs).deliverWebhook({ deliveryId: target.deliveryId });
      deliveries[i] = { ...deliveries[i], ...summary, nextAttemptAt: null };
    }),
  );

  const status = eventStatusOf(deliveries);
  upsertSearchAttributes([{ key: HeraldStatus, value: status }]);
  await store.finishEvent({ tenant, eventId: event.id, status });
  return view();
}
