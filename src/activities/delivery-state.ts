import { deliveryView } from '../api/views';
import { isFinal } from '../domain/status';
import type { AttemptedDelivery, DeliveryDoc } from '../store';
import type { DeliveryView } from '../domain/schemas';
import type { AttemptInput, AttemptResult, DeliveryState, OpenedDelivery } from './types';

/** The longest error a workflow keeps of a delivery; the audit keeps the whole (up to 4 KiB, a broker's refusal). */
export const TRACKED_ERROR_MAX = 256;

/**
 * A stored delivery as its workflow tracks it. A run carries every delivery of its event
 * through Temporal, whose payloads stop at 2 MB (see DEFAULT_MAX_SUBSCRIPTIONS in config.ts),
 * so the error it keeps is cut short; the audit, where the API reads it, keeps all of it.
 */
export function trackedView(doc: AttemptedDelivery): DeliveryView {
  const view = deliveryView(doc);
  if (view.error === null || view.error.length <= TRACKED_ERROR_MAX) return view;
  return { ...view, error: `${view.error.slice(0, TRACKED_ERROR_MAX - 1)}…` };
}

/** A stored delivery as an attempt answers it to its workflow. */
export function resultOf(doc: AttemptedDelivery, now: number): AttemptResult {
  const retryDelayMs = isFinal(doc.status) ? null : Math.max(0, (doc.nextAttemptAt?.getTime() ?? now) - now);
  return { view: trackedView(doc), retryDelayMs };
}

export function stateOf(doc: DeliveryDoc, timeoutMs: number): DeliveryState {
  return { deliveryId: doc._id, timeoutMs, scheduleBase: doc.scheduleBase ?? 0, view: trackedView(doc) };
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

/** The first attempt of a delivery whose opening was deferred (`DeliveryState.unopened`), under the claim it was opened with. */
export function deferredFirstAttempt(tenant: string, eventId: string, state: DeliveryState): AttemptInput {
  return {
    deliveryId: state.deliveryId,
    attempt: state.view.attempts + 1,
    scheduleBase: state.scheduleBase,
    opened: {
      tenant,
      eventId,
      view: state.view,
      claimedUntil: state.openingClaimUntil!,
      ...(state.matchedAtVersion !== undefined && { matchedAtVersion: state.matchedAtVersion }),
      unopened: state.unopened,
    },
  };
}
