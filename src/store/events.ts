import type { Filter } from 'mongodb';
import type { EventFilterQuery, EventListQuery, HeraldEvent } from '../domain/schemas';
import { currentDeliveries, eventStatusOf, type EventStatus } from '../domain/status';
import type { KeyLimits } from '../domain/key-limits';
import { findByIds, isDuplicateKeyError, type DeliveryDoc, type EventDoc, type EventMarksDoc, type Store } from './index';
import { withKeyLimits } from './key-limits';
import { keysetPage, type Page } from './paging';

export const eventKey = (tenant: string, id: string) => `${tenant}/${id}`;

/** An accepted event as the audit keeps it, from the run that records it (with the subscriptions whose filter it failed). */
export function eventDocOf(
  tenant: string,
  event: HeraldEvent,
  workflowId: string,
  runId: string,
  status: EventStatus,
  filteredOut: readonly string[] = [],
): EventDoc {
  return {
    _id: eventKey(tenant, event.id),
    tenant,
    id: event.id,
    type: event.type,
    dataJson: JSON.stringify(event.data),
    ...(event.subject && { subject: event.subject }),
    ...(event.actor && { actor: event.actor }),
    ...(event.source && { source: event.source }),
    ...(event.parentId && { parentId: event.parentId }),
    ...(event.correlationId && { correlationId: event.correlationId }),
    occurredAt: new Date(event.occurredAt),
    receivedAt: new Date(event.receivedAt),
    workflowId,
    runId,
    status,
    ...(filteredOut.length > 0 && { filteredOut: [...filteredOut] }),
  };
}

/** What `recordEvent` did. */
export interface Recorded {
  /** `recorded` for the run that wrote the event, `recorded before` when that run's activity is retried and finds its own record, `duplicate` for any other run. */
  outcome: 'recorded' | 'recorded before' | 'duplicate';
  /** Whether a purge had marked the event when its marks were read, after the record was written; absent when they were not read (a closing event, a duplicate). */
  purgeMarked?: boolean;
}

/** Records an event in the audit exactly once. */
export async function recordEvent(store: Store, doc: EventDoc): Promise<Recorded> {
  let outcome: Recorded['outcome'] = 'recorded';
  try {
    await store.events.insertOne(doc);
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    const existing = await store.events.findOne({ _id: doc._id }, { projection: { runId: 1 } });
    if (existing?.runId !== doc.runId) return { outcome: 'duplicate' };
    outcome = 'recorded before';
  }
  const marks = await linkClosure(store, doc);
  return marks === undefined ? { outcome } : { outcome, purgeMarked: !!marks?.purgeMarkedAt };
}

/** `deployment.completed`, `build.failed`: an event that closes what its parent opened. */
const CLOSING_TYPE = /\.(completed|failed)$/;
export const isClosingType = (type: string) => CLOSING_TYPE.test(type);

/**
 * Marks which events were closed. Parent and child may arrive in either order and at once,
 * so each side writes itself first and looks for the other second: the child leaves a mark
 * keyed by its parent's `_id` and then closes the parent; the parent, once recorded, reads
 * that mark by `_id`. Whichever is recorded last finds the other. Filters by `_id` alone:
 * FerretDB on SQLite reads the whole audit for anything else, on every event. (Of several
 * closers of one parent, any may be the one named.) Answers the event's marks as read after its
 * record; a closing event reads none.
 */
async function linkClosure(store: Store, doc: EventDoc): Promise<EventMarksDoc | null | undefined> {
  if (isClosingType(doc.type)) {
    if (doc.parentId) await closeParent(store, eventKey(doc.tenant, doc.parentId), doc.id);
    return undefined; // a closing event is not itself opened
  }
  // The whole document: its purge mark, read after the record was written, spares the opening a read of its own.
  const marks = await store.eventMarks.findOne({ _id: doc._id });
  if (marks?.closedBy) await store.events.updateOne({ _id: doc._id }, { $set: { closedBy: marks.closedBy } });
  return marks;
}

/** The closer's side of `linkClosure`: its mark, keyed by the parent's `_id`, then the parent's own. */
async function closeParent(store: Store, parentKey: string, closerId: string): Promise<void> {
  try {
    await store.eventMarks.insertOne({ _id: parentKey, closedBy: closerId });
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    // The first closer stays named, even once retention took it (a purge of a later one then leaves
    // the parent closed by it). A document without one holds a purge's mark, or is what a purged
    // closer's reopen left: the mark goes beside it. By `_id` alone, the only filter every backend
    // pushes down; two closers at that moment may both write, and either is named.
    const marks = await store.eventMarks.findOne({ _id: parentKey });
    if (!marks?.closedBy) await store.eventMarks.updateOne({ _id: parentKey }, { $set: { closedBy: closerId } });
  }
  await store.events.updateOne({ _id: parentKey }, { $set: { closedBy: closerId } });
}

export async function setEventStatus(store: Store, tenant: string, id: string, status: EventStatus): Promise<void> {
  await store.events.updateOne({ _id: eventKey(tenant, id) }, { $set: { status } });
}

/**
 * Sets the status one run gives its event, and answers whether the event was replayed (then its
 * runs' statuses must be combined). Written first and checked after, by `_id` alone: a replay
 * counted after this write finishes with the combined status itself, one counted before is seen.
 */
export async function setStatusOfRun(
  store: Store,
  tenant: string,
  id: string,
  status: EventStatus,
  ownRun: boolean,
): Promise<{ replayed: boolean }> {
  // No projection: FerretDB does not support one on findAndModify. The event's own run has
  // ended, so its first attempts send no more: it also clears their claim; a replay's end
  // must leave it to the run that holds it. By `_id` alone: FerretDB's SQLite backend pushes
  // down nothing else, and `{_id, workflowId}` read the whole audit for every event.
  const doc = await store.events.findOneAndUpdate(
    { _id: eventKey(tenant, id) },
    { $set: { status }, ...(ownRun && { $unset: { claimedUntil: '' } }) },
    { returnDocument: 'after' },
  );
  return { replayed: !!doc?.replays };
}

/** Clears the claim an event carries for its deliveries' deferred openings, once their first attempts have ended. */
export async function releaseEventClaim(store: Store, tenant: string, id: string): Promise<void> {
  await store.events.updateOne({ _id: eventKey(tenant, id) }, { $unset: { claimedUntil: '' } });
}

/**
 * An event's status as the audit shows it now: its deliveries' (after a replay, each
 * subscription's newest), or the stored one before any is stored, or while the event's claim
 * says first attempts are storing theirs (`EventDoc.claimedUntil`): some may be missing yet.
 */
export function liveEventStatus(doc: EventDoc, deliveries: DeliveryDoc[], now = new Date()): EventStatus {
  if (deliveries.length === 0 || isStoringDeliveries(doc, now)) return doc.status;
  return eventStatusOf(currentDeliveries(deliveries));
}

/** Whether the event's claim says its first attempts are still storing their deliveries. */
export function isStoringDeliveries(doc: EventDoc, now = new Date()): boolean {
  return doc.claimedUntil !== undefined && doc.claimedUntil > now;
}

export function findEvent(store: Store, tenant: string, id: string): Promise<EventDoc | null> {
  return store.events.findOne({ _id: eventKey(tenant, id) });
}

/** Numbers the next replay of an event (1, 2, …); null when the event is not in the audit. */
export async function nextReplayNumber(store: Store, tenant: string, id: string): Promise<number | null> {
  const doc = await store.events.findOneAndUpdate(
    { _id: eventKey(tenant, id) },
    { $inc: { replays: 1 } },
    // No projection: FerretDB does not support one on findAndModify.
    { returnDocument: 'after' },
  );
  return doc?.replays ?? null;
}

export function findEventsByIds(store: Store, tenant: string, ids: string[]): Promise<EventDoc[]> {
  return findByIds(
    store.events,
    ids.map((id) => eventKey(tenant, id)),
  );
}

/** Which of these ids the tenant has already used (the audit outlives Temporal's retention). */
export async function existingEventIds(store: Store, tenant: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const docs = await findEventsByIds(store, tenant, ids);
  return new Map(docs.map((d) => [d.id, d.workflowId]));
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `a.*` matches `a` and everything under `a.`. */
const prefixPattern = (type: string) => `^${escapeRegex(type.slice(0, -2))}(\\.|$)`;

/**
 * The MongoDB filter for the list's and the export's query. Conditions are top-level fields
 * wherever they can be, so the store matches them against an index (FerretDB pushes down
 * only top-level equalities); only the text search needs an `$or`. A limited key's limits
 * are added by `withKeyLimits`.
 */
export function eventFilter(tenant: string, q: EventFilterQuery, limits?: KeyLimits): Filter<EventDoc> {
  const filter: Filter<EventDoc> = { tenant };
  if (q.type?.endsWith('.*')) filter.type = { $regex: prefixPattern(q.type) };
  else if (q.type) filter.type = q.type;
  if (q.subjectType) filter['subject.type'] = q.subjectType;
  if (q.subjectId) filter['subject.id'] = q.subjectId;
  if (q.actor) filter.actor = q.actor;
  if (q.correlationId) filter.correlationId = q.correlationId;
  if (q.status) filter.status = q.status;
  if (q.since || q.until) {
    filter.occurredAt = { ...(q.since && { $gte: new Date(q.since) }), ...(q.until && { $lte: new Date(q.until) }) };
  }
  if (q.open !== undefined) filter.closedBy = { $exists: !q.open };
  // Closing events are never open themselves, unless asked for by their exact type.
  if (q.open === true && !(q.type && !q.type.endsWith('.*'))) {
    filter.type = { ...(q.type && { $regex: prefixPattern(q.type) }), $not: new RegExp(CLOSING_TYPE.source) };
  }
  if (q.q) {
    const text = { $regex: escapeRegex(q.q), $options: 'i' };
    filter.$or = [{ type: text }, { 'subject.type': text }, { 'subject.id': text }, { actor: text }];
  }
  return withKeyLimits(filter, limits);
}

/** Newest first by occurredAt, ties broken by id. */
export function listEvents(store: Store, tenant: string, q: EventListQuery, limits?: KeyLimits): Promise<Page<EventDoc>> {
  return keysetPage(store.events, eventFilter(tenant, q, limits), { time: 'occurredAt', id: 'id' }, q.limit, q.cursor);
}

/** What an export line shows: the store's bookkeeping (key, tenant, run) is left in the store. */
const EXPORTED_FIELDS = {
  _id: 0,
  id: 1,
  type: 1,
  dataJson: 1,
  subject: 1,
  actor: 1,
  source: 1,
  parentId: 1,
  correlationId: 1,
  occurredAt: 1,
  receivedAt: 1,
  status: 1,
} as const;

/**
 * The export's events, oldest first, as one cursor the caller reads batch by batch: one
 * query for the whole export, so memory holds one batch and the store reads each event once.
 */
export function exportEvents(store: Store, tenant: string, q: EventFilterQuery, batchSize: number, limits?: KeyLimits) {
  return store.events
    .find(eventFilter(tenant, q, limits), { projection: EXPORTED_FIELDS })
    .sort({ occurredAt: 1, id: 1 })
    .batchSize(batchSize);
}

/**
 * An event as one JSON text, the same as `JSON.stringify({...eventOf(doc), ...extra})`, with
 * `dataJson` spliced in as stored: an export writes millions of these, and parsing each
 * event's data only to serialise it again would double the garbage it leaves behind.
 */
export function eventJson(doc: EventDoc, extra: Record<string, unknown>): string {
  const rest = JSON.stringify({ ...eventFieldsAfterData(doc), ...extra }); // never empty: it holds the times
  return `{"id":${JSON.stringify(doc.id)},"type":${JSON.stringify(doc.type)},"data":${doc.dataJson},${rest.slice(1)}`;
}

export function eventOf(doc: EventDoc): HeraldEvent {
  return {
    id: doc.id,
    type: doc.type,
    data: JSON.parse(doc.dataJson) as Record<string, unknown>,
    ...eventFieldsAfterData(doc),
  };
}

function eventFieldsAfterData(doc: EventDoc): Omit<HeraldEvent, 'id' | 'type' | 'data'> {
  return {
    ...(doc.subject && { subject: doc.subject }),
    ...(doc.actor && { actor: doc.actor }),
    ...(doc.source && { source: doc.source }),
    ...(doc.parentId && { parentId: doc.parentId }),
    ...(doc.correlationId && { correlationId: doc.correlationId }),
    occurredAt: doc.occurredAt.toISOString(),
    receivedAt: doc.receivedAt.toISOString(),
  };
}

/**
 * Deletes up to `limit` events that occurred before `before`, with their deliveries and
 * attempts; events still delivering, and events a digest may still read, are kept. The audit
 * of an event goes before the event, so an interrupted batch leaves events whose deletion the
 * next batch finishes. Answers how many events were deleted.
 */
export async function deleteExpiredEvents(store: Store, before: Date, limit: number): Promise<number> {
  const expired = await store.events
    .find(
      {
        occurredAt: { $lt: before },
        status: { $ne: 'delivering' },
        $or: [{ heldByDigestsUntil: { $exists: false } }, { heldByDigestsUntil: { $lt: new Date() } }],
      },
      { projection: { _id: 1, tenant: 1, id: 1 } },
    )
    .limit(limit)
    .toArray();
  if (expired.length === 0) return 0;
  const byTenant = new Map<string, string[]>();
  for (const e of expired) {
    const ids = byTenant.get(e.tenant);
    if (ids) ids.push(e.id);
    else byTenant.set(e.tenant, [e.id]);
  }
  let deleted = 0;
  for (const [tenant, ids] of byTenant) deleted += await deleteEventsWithAudit(store, tenant, ids);
  return deleted;
}

/**
 * Deletes events with their deliveries and attempts. The audit of an event goes before the
 * event, so an interrupted call leaves events whose deletion the next one finishes; all but a
 * purge's mark, which fences the event until it is gone and so goes after it (a call interrupted
 * between the two leaves that mark behind, as the purge did before it shared the document).
 */
export async function deleteEventsWithAudit(store: Store, tenant: string, ids: string[]): Promise<number> {
  // Deliveries first: an attempt recorded after this finds its delivery gone and removes itself.
  await store.deliveries.deleteMany({ tenant, eventId: { $in: ids } });
  await store.attempts.deleteMany({ tenant, eventId: { $in: ids } });
  const keys = ids.map((id) => eventKey(tenant, id));
  await store.eventMarks.deleteMany({ _id: { $in: keys }, purgeMarkedAt: { $exists: false } });
  const deleted = (await store.events.deleteMany({ _id: { $in: keys } })).deletedCount;
  // Retention's too: a purge stopped part way may have marked the expired events.
  await store.eventMarks.deleteMany({ _id: { $in: keys } });
  return deleted;
}

/**
 * A purge's first step: marks the events as being purged, before their workflows are
 * stopped. An attempt that finds the mark after claiming its delivery sends nothing, and a
 * run that opens deliveries for a marked event hands none of them out (`isPurging`), so no
 * send starts once the marks are written; the purge then waits for the sends already started.
 * Idempotent: a purge run again over the same events finds its marks in place.
 */
export async function markPurging(store: Store, tenant: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const purgeMarkedAt = new Date();
  await store.eventMarks.bulkWrite(
    ids.map((id) => ({ updateOne: { filter: { _id: eventKey(tenant, id) }, update: { $set: { purgeMarkedAt } }, upsert: true } })),
    { ordered: false },
  );
}

/** Whether a purge is removing this event (read by `_id`). */
export function isMarkedForPurge(store: Store, tenant: string, id: string): Promise<boolean> {
  return isKeyMarkedForPurge(store, eventKey(tenant, id));
}

/** `isMarkedForPurge` by the event's key (`eventKey`). */
export async function isKeyMarkedForPurge(store: Store, key: string): Promise<boolean> {
  return !!(await store.eventMarks.findOne({ _id: key }, { projection: { purgeMarkedAt: 1 } }))?.purgeMarkedAt;
}

/** Whether a purge is removing or has removed this event: marked, or no longer in the audit. */
export async function isPurging(store: Store, tenant: string, id: string): Promise<boolean> {
  return (await isMarkedForPurge(store, tenant, id)) || !(await isRecorded(store, tenant, id));
}

/** Whether the audit holds this event's record (read by `_id`). */
export async function isRecorded(store: Store, tenant: string, id: string): Promise<boolean> {
  return (await store.events.findOne({ _id: eventKey(tenant, id) }, { projection: { _id: 1 } })) !== null;
}

/** The type of the record a purge leaves: it cannot itself be purged. */
export const PURGED_EVENT_TYPE = 'herald.events.purged';

/** What a purge needs of an event: to stop its workflows, its own run's id and how many replays it had; to reopen what it closed, its type and parent. */
export type PurgedEvent = Pick<EventDoc, 'id' | 'workflowId' | 'replays' | 'type' | 'parentId' | 'batch'>;

/**
 * Before purged events go: a parent that one of them closed is closed by another of its
 * closing children, or open again, as if the purged one had never been sent. (Retention keeps
 * the mark: the parent was closed, and its closer has only aged out.) By the parent's `_id`;
 * its other children, by `tenant_parent`, only when the purged one is the closer named.
 */
export async function reopenParentsClosedBy(store: Store, tenant: string, purged: PurgedEvent[]): Promise<void> {
  const gone = new Set(purged.map((e) => e.id));
  /** A closing child of the parent that stays: one recorded, or one the mark names (aged out, say). */
  const survivor = async (parentId: string, named: string | undefined): Promise<string | undefined> => {
    const children = await store.events.find({ tenant, parentId }, { projection: { id: 1, type: 1 } }).toArray();
    return children.find((c) => !gone.has(c.id) && isClosingType(c.type))?.id ?? (named && !gone.has(named) ? named : undefined);
  };
  for (const closer of purged) {
    if (!closer.parentId || !isClosingType(closer.type)) continue;
    const parentKey = eventKey(tenant, closer.parentId);
    const [parent, mark] = await Promise.all([store.events.findOne({ _id: parentKey }), store.eventMarks.findOne({ _id: parentKey })]);
    if (parent?.closedBy !== closer.id && mark?.closedBy !== closer.id) continue; // another closer is the one named
    const next = await survivor(closer.parentId, mark?.closedBy);
    if (next) {
      await store.events.updateOne({ _id: parentKey, closedBy: closer.id }, { $set: { closedBy: next } });
      await store.eventMarks.updateOne({ _id: parentKey, closedBy: closer.id }, { $set: { closedBy: next } });
      continue;
    }
    await store.events.updateOne({ _id: parentKey, closedBy: closer.id }, { $unset: { closedBy: '' } });
    // Not the document: a purge of the parent may have marked it too.
    await store.eventMarks.updateOne({ _id: parentKey, closedBy: closer.id }, { $unset: { closedBy: '' } });
    // A closer recorded meanwhile may have found the mark still in place and named the parent
    // before the unset: a second look links it again.
    const late = await survivor(closer.parentId, undefined);
    if (late) await closeParent(store, parentKey, late);
  }
}

/** One batch of the events a purge selects (never the purge records), with what it needs to stop them. */
export function purgeBatch(
  store: Store,
  tenant: string,
  filter: EventFilterQuery,
  limit: number,
  limits?: KeyLimits,
): Promise<PurgedEvent[]> {
  const selected = eventFilter(tenant, filter, limits);
  return store.events
    .find(
      { $and: [selected, { type: { $ne: PURGED_EVENT_TYPE } }] },
      { projection: { id: 1, workflowId: 1, replays: 1, type: 1, parentId: 1, batch: 1 } },
    )
    .limit(limit)
    .toArray();
}

/** Events whose `parentId` is one of these ids (and within a limited key's limits): one level of an event's descendants. */
export function childrenOf(store: Store, tenant: string, parentIds: string[], limit: number, limits?: KeyLimits): Promise<EventDoc[]> {
  return store.events
    .find(withKeyLimits({ tenant, parentId: { $in: parentIds } }, limits))
    .sort({ occurredAt: 1, id: 1 })
    .limit(limit)
    .toArray();
}
