import { deliveryView } from '../api/views';
import { isFinal } from '../domain/status';
import type { AttemptedDelivery, DeliveryDoc } from '../store';
import type { AttemptResult, DeliveryState } from './types';

/** A stored delivery as its workflow tracks it and as an attempt answers it. */

export function resultOf(doc: AttemptedDelivery, now: number): AttemptResult {
  const retryDelayMs = isFinal(doc.status) ? null : Math.max(0, (doc.nextAttemptAt?.getTime() ?? now) - now);
  return { view: deliveryView(doc), retryDelayMs };
}

export function stateOf(doc: DeliveryDoc, timeoutMs: number): DeliveryState {
  return { deliveryId: doc._id, timeoutMs, scheduleBase: doc.scheduleBase ?? 0, view: deliveryView(doc) };
}
