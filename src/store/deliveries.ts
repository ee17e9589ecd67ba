import type { ControlAction } from '../domain/schemas';
import { isFinal, type DeliveryStatus } from '../domain/status';
import { groupedWrite } from './grouped-write';
import { eventKey, isPurging, setEventStatus } from './events';
import {
  findByIds,
  isDuplicateKeyError,
  onlyDuplicateKeys,
  writeErrorsByIndex,
  type AttemptDoc,
  type DeliveryDoc,
  type Store,
} from './index';

/** The state of a delivery no attempt was made of yet. */
export const UNATTEMPTED = {
  attempts: 0,
  lastAttemptAt: null,
  lastResponseStatus: null,
  nextAttemptAt: null,
  error: null,
  scheduleBase: 0,
} as const satisfies Partial<DeliveryDoc>;

export const deliveryKey = (workflowId: string, subscriptionId: string) => `${workflowId}|${subscriptionId}`;

/**
 * Inserts pending deliveries in one unordered batch and answers the run's deliveries as
 * stored. On a retried call the ones already there fail their unique _id and keep the first
 * call's message ids; only then is the run read back (it may also hold a delivery of a
 * subscription deleted between the calls), so the first call costs no read.
 */
export async function createDeliveries(store: Store, docs: DeliveryDoc[]): Promise<DeliveryDoc[]> {
  if (docs.length === 0) return [];
  try {
    await store.deliveries.insertMany(docs, { ordered: false });
    return docs;
  } catch (err) {
    if (!onlyDuplicateKeys(err, docs.length)) throw err;
  }
  return deliveriesOfRun(store, docs[0].workflowId);
}

/**
 * Reads of deliveries leave out the first attempt one may keep (its request headers and up to
 * 4 KiB of answer): only the readers of an event's attempts want it.
 */
export const WITHOUT_FIRST_ATTEMPT = { projection: { firstAttempt: 0 } } as const;

export function findDelivery(store: Store, id: string): Promise<DeliveryDoc | null> {
  return store.deliveries.findOne({ _id: id }, WITHOUT_FIRST_ATTEMPT);
}

/** The attempt activity's start-to-close timeout at the highest `timeoutMs` (60 s) a subscription may have. */
const LONGEST_ATTEMPT_MS = 60_000 + 60_000;

/**
 * How long the claim a delivery is opened with lasts. Its first attempt uses it instead of a
 * claim of its own when it can send and record within it (`openingClaimHolds`): the attempt
 * that follows its opening at once, which is nearly every one, then writes once, not twice.
 */
export const OPENING_CLAIM_MS = 20_000;

/** Room left for recording the outcome after the receiver's timeout, within a claim. */
const RECORDING_MARGIN_MS = 5_000;

/** Whether an attempt that starts sending now, to a receiver allowed `timeoutMs`, records within a claim lasting until `until`. */
export const claimHolds = (until: number, timeoutMs: number, now = Date.now()) => now + timeoutMs + RECORDING_MARGIN_MS < until;

/** How soon after its delivery was opened a first attempt counts as the one that follows the opening. */
const FOLLOWS_OPENING_MS = 8_000;

/**
 * Whether an attempt starting now under an opening claim lasting until `until` follows its
 * opening, so that the purge-mark read the opening made after writing the claim still fences
 * it. A first attempt run again after its worker died (recorded or not, its claim possibly
 * cleared) starts only once the workflow task timed out, 10 s or more after the opening: it
 * reads the mark itself.
 */
export const followsOpening = (until: number, now = Date.now()) => until - now > OPENING_CLAIM_MS - FOLLOWS_OPENING_MS;

/**
 * An attempt's first step, in place of a read: marks the delivery as possibly sending and
 * answers it as it now is. The attempt then reads the event's purge mark, and a purge counts
 * claims after writing its marks (`claimsInFlight`), so one of them sees the other: either the
 * attempt finds the mark and sends nothing, or the purge finds the claim and waits for the
 * attempt to record its outcome. Cleared by every end of the attempt (`recordAttempt`,
 * `closeDelivery`, `releaseDelivery`). The claim a delivery is opened with fences the same
 * way: it is written before its attempt reads the mark.
 */
export function claimDelivery(store: Store, id: string): Promise<DeliveryDoc | null> {
  const claimedUntil = new Date(Date.now() + LONGEST_ATTEMPT_MS);
  return store.deliveries.findOneAndUpdate({ _id: id }, { $set: { claimedUntil } }, { returnDocument: 'after' });
}

/** Clears an attempt's mark when it ends without recording (nothing to send, throttled, purged, failed). */
export async function releaseDelivery(store: Store, id: string): Promise<void> {
  await store.deliveries.updateOne({ _id: id }, { $unset: { claimedUntil: '' } });
}

/**
 * The deliveries of these events with a claim that has not lapsed by `now`: sends that may
 * be in flight. A lapsed claim is a worker that died mid-attempt, or a delivery whose first
 * attempt never came; neither sends anything more.
 */
export async function claimsInFlight(store: Store, tenant: string, eventIds: string[], now: Date): Promise<number> {
  const deliveries = await store.deliveries.countDocuments({ tenant, eventId: { $in: eventIds }, claimedUntil: { $gt: now } });
  // An event whose deliveries' opening was deferred to their first attempts carries their claim itself.
  const events = await findByIds(
    store.events,
    eventIds.map((id) => eventKey(tenant, id)),
  );
  return deliveries + events.filter((e) => e.claimedUntil && e.claimedUntil > now).length;
}

export type DeliveryProgress = Pick<DeliveryDoc, 'status' | 'lastAttemptAt' | 'lastResponseStatus' | 'nextAttemptAt' | 'error'>;

/*
 * The writes below filter by `_id` alone: FerretDB on SQLite pushes nothing else down and
 * reads the whole collection for `{_id, ...}`. Their conditions are checked on the document
 * as read instead, by the one caller that may write it at that moment: the delivery's
 * workflow, which runs one step of a delivery at a time.
 */

/** Inserts documents of one collection, grouped (`groupedWrite`): `existed` for one whose `_id` was there already, which stays as it was. */
function groupedInsert<T extends { _id: string }>(
  insertMany: (docs: T[]) => Promise<unknown>,
  lingerMs = 0,
): (doc: T) => Promise<'inserted' | 'existed'> {
  return groupedWrite<T, 'inserted' | 'existed'>(
    async (docs) => {
      try {
        await insertMany(docs);
        return docs.map(() => 'inserted');
      } catch (err) {
        const refused = writeErrorsByIndex(err, docs.length);
        if (!refused) throw err;
        return docs.map((doc, i) => {
          const error = refused.get(i);
          if (!error) return 'inserted';
          return isDuplicateKeyError(error) ? 'existed' : new Error(error.errmsg ?? `${doc._id} not recorded`);
        });
      }
    },
    undefined,
    lingerMs,
  );
}

/**
 * How long an attempt's insert that finds none in flight waits for others to join it. An event's
 * first attempts end within milliseconds of each other; without the wait, an idle store took
 * each event's ten attempts (and ten deliveries) in two to three commands each, with it in
 * about one (bench/results/record-linger-2026-12-06T2200Z.md: the store's CPU per delivery
 * −11 % relative to Temporal's in every pair). For a first attempt the wait comes after the send,
 * before its record; a deferred delivery stored before a retried attempt or a cancel
 * (`openDeferred`) waits it too.
 */
const RECORD_LINGER_MS = 3;

/** Writes one attempt and the delivery's new state; see `createAttemptRecorder`. */
export type RecordAttempt = (attempt: AttemptDoc, progress: DeliveryProgress, trigger?: ControlAction) => Promise<void>;

/**
 * Records finished attempts, the inserts of the attempts that finish at the same moment grouped
 * into one command (`groupedWrite`; FerretDB writes them in one transaction). A first attempt
 * that stores its delivery goes inside it (`DeliveryDoc.firstAttempt`). Each attempt is keyed by its number, so an
 * activity retried after a crash does not list it twice (an earlier try's record is kept, in `attempts` or inside its
 * delivery: `withFirstAttempts`); it does not move the delivery
 * backwards either, as the attempt checks the delivery's count before it sends. `trigger` is
 * the retry request that made the attempt happen now.
 */
export function createAttemptRecorder(store: Store): {
  recordAttempt: RecordAttempt;
  recordOpening: (attempt: AttemptDoc, delivery: DeliveryDoc) => Promise<void>;
  openDeferred: (delivery: DeliveryDoc) => Promise<boolean>;
} {
  const insertAttempt = groupedInsert<AttemptDoc>((docs) => store.attempts.insertMany(docs, { ordered: false }), RECORD_LINGER_MS);
  const insertDelivery = groupedInsert<DeliveryDoc>((docs) => store.deliveries.insertMany(docs, { ordered: false }), RECORD_LINGER_MS);
  const recordAttempt: RecordAttempt = async (attempt, progress, trigger) => {
    await insertAttempt(attempt);
    // Not grouped: FerretDB applies each statement of an update command on its own, so one
    // command of N saves it nothing (docs/scaling.md), and FerretDB 1.24 as released keeps every
    // statement's PostgreSQL connection until the whole command ends (msg_update.go defers each
    // iterator's close; tools/ferretdb's patch closes it after the statement): grouped, the
    // updates starved its pool within seconds under `make bench`.
    const updated = await store.deliveries.updateOne(
      { _id: attempt.deliveryId },
      {
        $set: { ...progress, attempts: attempt.attempt, updatedAt: new Date() },
        $unset: { claimedUntil: '' },
        ...(trigger && { $push: { actions: trigger } }),
      },
    );
    // A purge removed the delivery while this attempt was in flight: the attempt (which holds
    // the event's data) goes with it. A purge deletes deliveries before attempts, so either it
    // deletes this record or this finds the delivery gone.
    if (updated.matchedCount === 0) await store.attempts.deleteOne({ _id: attempt._id });
  };
  return {
    recordAttempt,
    /**
     * The first attempt of a delivery whose opening was deferred to it (`openEvent`'s
     * `OpenEventInput.deferOpening`): the delivery is written once, with the attempt's outcome and
     * the attempt inside it, one insert grouped with those of other attempts. A delivery already
     * there (opened by an earlier try that failed, or stored as opened before a cancel) is
     * updated as any attempt's, its attempt in `attempts`.
     */
    async recordOpening(attempt, delivery) {
      if ((await insertDelivery({ ...delivery, firstAttempt: attempt })) === 'existed') {
        const { status, lastAttemptAt, lastResponseStatus, nextAttemptAt, error } = delivery;
        await recordAttempt(attempt, { status, lastAttemptAt, lastResponseStatus, nextAttemptAt, error });
      }
    },
    /**
     * Writes a deferred delivery as opened (pending, unclaimed) when it is not there yet, before
     * any step that needs it stored. False when its event is being purged (or was): a purge
     * may have deleted the event's deliveries before this insert, so the mark is read after it,
     * as `openEvent` reads it after writing its claims, and the delivery is removed again.
     */
    async openDeferred(delivery) {
      await insertDelivery(delivery);
      if (!(await isPurging(store, delivery.tenant, delivery.eventId))) return true;
      await store.deliveries.deleteOne({ _id: delivery._id });
      return false;
    },
  };
}

/**
 * Closes a delivery without an attempt (cancelled, subscription gone or disabled) and
 * answers its state. A delivery already final stays as it was.
 */
export async function closeDelivery(
  store: Store,
  id: string,
  status: DeliveryStatus,
  error: string | null,
  action?: ControlAction,
): Promise<DeliveryDoc | null> {
  const doc = await findDelivery(store, id);
  if (!doc || isFinal(doc.status)) return doc;
  const closed = { status, error, nextAttemptAt: null, updatedAt: new Date() };
  const updated = await store.deliveries.updateOne(
    { _id: id },
    { $set: closed, $unset: { claimedUntil: '' }, ...(action && { $push: { actions: action } }) },
  );
  if (updated.matchedCount === 0) return null; // purged meanwhile
  return { ...doc, ...closed, ...(action && { actions: [...(doc.actions ?? []), action] }) };
}

/**
 * Gives a failed delivery a fresh run of its schedule: attempts keep counting (they number
 * the audit), the schedule starts over from here. Written only while the delivery is still
 * the failed one with this many attempts, so a retried call changes nothing.
 */
export async function reopenDelivery(store: Store, id: string, attempts: number, action: ControlAction): Promise<void> {
  const doc = await findDelivery(store, id);
  if (doc?.status !== 'failed' || doc.attempts !== attempts) return;
  // The event delivers again: lists filter on its stored status, which its run's end sets
  // final again. Written first, so a retry of this step after the delivery's write finds the
  // delivery reopened and the event marked both.
  await setEventStatus(store, doc.tenant, doc.eventId, 'delivering');
  await store.deliveries.updateOne(
    { _id: id },
    {
      $set: { status: 'pending', error: null, nextAttemptAt: null, scheduleBase: attempts, updatedAt: new Date() },
      $push: { actions: action },
    },
  );
}

/** Every delivery one workflow (an event's, or one of its replays) opened. */
export function deliveriesOfRun(store: Store, workflowId: string): Promise<DeliveryDoc[]> {
  return store.deliveries.find({ workflowId }, WITHOUT_FIRST_ATTEMPT).sort({ subscriptionId: 1 }).toArray();
}

/** One page of a subscription's failed deliveries opened in a window, oldest first. */
export function failedDeliveries(
  store: Store,
  q: { tenant: string; subscriptionId: string; since: Date; until: Date; after?: [Date, string]; limit: number },
): Promise<DeliveryDoc[]> {
  const createdAt = { $gte: q.since, $lte: q.until };
  const filter: Record<string, unknown> = { tenant: q.tenant, subscriptionId: q.subscriptionId, status: 'failed', createdAt };
  if (q.after) {
    const [time, id] = q.after;
    filter.$or = [{ createdAt: { $gt: time, $lte: q.until } }, { createdAt: time, _id: { $gt: id } }];
  }
  return store.deliveries.find(filter, WITHOUT_FIRST_ATTEMPT).sort({ createdAt: 1, _id: 1 }).limit(q.limit).toArray();
}

/** Workflows holding deliveries of a subscription that still wait for an attempt. */
export async function workflowsWaitingOn(store: Store, subscriptionId: string, limit: number): Promise<string[]> {
  const docs = await store.deliveries
    .find({ subscriptionId, status: { $in: ['pending', 'retrying'] } }, { projection: { workflowId: 1 } })
    .limit(limit)
    .toArray();
  return [...new Set(docs.map((d) => d.workflowId))];
}

export function deliveriesForEvent(store: Store, tenant: string, eventId: string): Promise<DeliveryDoc[]> {
  return store.deliveries.find({ tenant, eventId }, WITHOUT_FIRST_ATTEMPT).sort({ createdAt: 1, _id: 1 }).toArray();
}

/**
 * An event's attempts: those in `attempts` and the first ones kept inside their deliveries, each
 * once. Newest first, like every list of the API.
 */
export async function attemptsForEvent(store: Store, tenant: string, eventId: string): Promise<AttemptDoc[]> {
  const [recorded, deliveries] = await Promise.all([
    store.attempts.find({ tenant, eventId }).toArray(),
    store.deliveries.find({ tenant, eventId }, { projection: { firstAttempt: 1 } }).toArray(),
  ]);
  return withFirstAttempts(recorded, deliveries).sort((a, b) => -byTimeThenId(a, b));
}

/**
 * The first attempts the deliveries keep with those `recorded` in `attempts`, each attempt once.
 * One is in both only when its send was made again after its delivery had stored it (an
 * activity retried within the opening's claim); the record kept inside the delivery came first
 * and is the one listed, as an earlier try's record is in `attempts`.
 */
export function withFirstAttempts(recorded: AttemptDoc[], deliveries: Array<Pick<DeliveryDoc, 'firstAttempt'>>): AttemptDoc[] {
  const kept = deliveries.flatMap((d) => (d.firstAttempt ? [d.firstAttempt] : []));
  const ids = new Set(kept.map((a) => a._id));
  return [...kept, ...recorded.filter((a) => !ids.has(a._id))];
}

/** Oldest first: by `startedAt`, then `_id`. */
export function byTimeThenId(a: AttemptDoc, b: AttemptDoc): number {
  return a.startedAt.getTime() - b.startedAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
}

/** The deliveries and attempts of many events at once, by event id: the export reads a batch per query. */
export async function auditOfEvents(
  store: Store,
  tenant: string,
  eventIds: string[],
  include: { deliveries: boolean; attempts: boolean },
): Promise<{ deliveries: Map<string, DeliveryDoc[]>; attempts: Map<string, AttemptDoc[]> }> {
  // The deliveries are read for their first attempts too (only those when they are not wanted).
  const [deliveries, recorded] = await Promise.all([
    include.deliveries || include.attempts
      ? store.deliveries
          .find(
            { tenant, eventId: { $in: eventIds } },
            !include.attempts ? WITHOUT_FIRST_ATTEMPT : include.deliveries ? {} : { projection: { eventId: 1, firstAttempt: 1 } },
          )
          .sort({ createdAt: 1, _id: 1 })
          .toArray()
      : [],
    include.attempts ? store.attempts.find({ tenant, eventId: { $in: eventIds } }).toArray() : [],
  ]);
  const byEvent = <T extends { eventId: string }>(docs: T[]) => {
    const map = new Map<string, T[]>();
    for (const d of docs) {
      const ofEvent = map.get(d.eventId);
      if (ofEvent) ofEvent.push(d);
      else map.set(d.eventId, [d]);
    }
    return map;
  };
  return {
    deliveries: include.deliveries ? byEvent(deliveries) : new Map<string, DeliveryDoc[]>(),
    attempts: include.attempts ? byEvent(withFirstAttempts(recorded, deliveries).sort(byTimeThenId)) : new Map<string, AttemptDoc[]>(),
  };
}
