import { deliveryView } from '../api/views';
import { isFinal } from '../domain/status';
import type { AttemptedDelivery, DeliveryDoc } from '../store';
import type { AttemptResult, DeliveryState, OpenedDelivery } from './types';

/** A stored delivery as its workflow tracks it and as an attempt answers it. */

export function resultOf(doc: AttemptedDelivery, now: number): AttemptResult {
  const retryDelayMs = isFinal(doc.status) ? null : Math.max(0, (doc.nextAttemptAt?.getTime() ?? now) - now);
  return { view: deliveryView(doc), retryDelayMs };
}

export function stateOf(doc: DeliveryDoc, timeoutMs: number): DeliveryState {
  return { deliveryId: doc._id, timeoutMs, scheduleBase: doc.scheduleBase ?? 0, view: deliveryView(doc) };
}

/**
 * The delivery as its workflow opened it a moment ago, instead of a read. An activity retried
 * after its worker died within the opening claim sends this attempt again, with the same
 * `webhook-id`, rather than find it recorded: at-least-once, as any lost answer gives.
 */
export function openedDelivery(deliveryId: string, opened: OpenedDelivery): AttemptedDelivery {
  const { view } = opened;
  return {
    _id: deliveryId,
    tenant: opened.tenant,
    eventId: opened.eventId,
    workflowId: view.workflowId,
    subscriptionId: view.subscriptionId,
    channel: view.channel,
    messageId: view.messageId,
    status: view.status,
    attempts: view.attempts,
    lastAttemptAt: null,
    lastResponseStatus: null,
    nextAttemptAt: null,
    error: null,
    scheduleBase: 0,
    actions: view.actions,
    ...(opened.digest && { digest: true }),
  };
}

/** A delivery whose opening was deferred (`DeliveryState.unopened`), as it is stored when opened: pending, unclaimed. */
export function deferredDelivery(deliveryId: string, opened: OpenedDelivery): DeliveryDoc {
  const openedAt = new Date(opened.unopened?.at ?? Date.now());
  return { ...openedDelivery(deliveryId, opened), createdAt: openedAt, updatedAt: openedAt };
}
