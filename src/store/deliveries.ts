import type { AttemptView, DeliveryView } from '../domain/schemas';
import type { DeliveryStatus } from '../domain/status';
import type { AttemptDoc, DeliveryDoc, Store } from './index';

export const deliveryKey = (workflowId: string, subscriptionId: string) => `${workflowId}|${subscriptionId}`;

/**
 * Inserts pending deliveries in one unordered batch; on a retried call the ones already
 * there fail their unique _id and keep the first call's message ids.
 */
export async function createDeliveries(store: Store, docs: DeliveryDoc[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await store.deliveries.insertMany(docs, { ordered: false });
  } catch (err) {
    const writeErrors = (err as { writeErrors?: { code: number }[] | { code: number } }).writeErrors;
    const errors = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
  }
}

export function findDelivery(store: Store, id: string): Promise<DeliveryDoc | null> {
  return store.deliveries.findOne({ _id: id });
}

export type DeliveryProgress = Pick<
  DeliveryDoc,
  'status' | 'lastAttemptAt' | 'lastResponseStatus' | 'nextAttemptAt' | 'error'
>;

/**
 * Writes one attempt and the delivery's new state. Keyed by attempt number, so an
 * activity retried after a crash neither records the attempt twice nor moves the
 * delivery backwards.
 */
export async function recordAttempt(store: Store, attempt: AttemptDoc, progress: DeliveryProgress): Promise<void> {
  await store.attempts.updateOne({ _id: attempt._id }, { $setOnInsert: attempt }, { upsert: true });
  await store.deliveries.updateOne(
    { _id: attempt.deliveryId, attempts: { $lt: attempt.attempt } },
    { $set: { ...progress, attempts: attempt.attempt, updatedAt: new Date() } },
  );
}

/** Closes a delivery without an attempt (cancelled, subscription gone or disabled). */
export async function closeDelivery(store: Store, id: string, status: DeliveryStatus, error: string | null): Promise<void> {
  await store.deliveries.updateOne(
    { _id: id, status: { $nin: ['succeeded', 'failed', 'cancelled'] } },
    { $set: { status, error, nextAttemptAt: null, updatedAt: new Date() } },
  );
}

export function deliveriesForEvent(store: Store, tenant: string, eventId: string): Promise<DeliveryDoc[]> {
  return store.deliveries.find({ tenant, eventId }).sort({ createdAt: 1, _id: 1 }).toArray();
}

/** Newest first, like every list of the API. */
export function attemptsForEvent(store: Store, tenant: string, eventId: string): Promise<AttemptDoc[]> {
  return store.attempts.find({ tenant, eventId }).sort({ startedAt: -1, _id: -1 }).toArray();
}

export function deliveryView(doc: DeliveryDoc): DeliveryView {
  return {
    subscriptionId: doc.subscriptionId,
    channel: doc.channel,
    status: doc.status,
    attempts: doc.attempts,
    lastAttemptAt: doc.lastAttemptAt?.toISOString() ?? null,
    // FerretDB drops null fields written by upserts, so absent reads as null.
    lastResponseStatus: doc.lastResponseStatus ?? null,
    nextAttemptAt: doc.nextAttemptAt?.toISOString() ?? null,
    error: doc.error ?? null,
  };
}

export function attemptView(doc: AttemptDoc): AttemptView {
  return {
    subscriptionId: doc.subscriptionId,
    attempt: doc.attempt,
    startedAt: doc.startedAt.toISOString(),
    durationMs: doc.durationMs,
    request: doc.request,
    response: doc.response ?? null,
    error: doc.error ?? null,
  };
}
