import { ApplicationFailure } from '@temporalio/activity';
import { mapConcurrent } from '../concurrency';
import { DIGEST_DELIVERY_GRACE_MS, DIGEST_EVENT_TYPE } from '../domain/digest';
import { messageIdOf, newMessageId } from '../domain/ids';
import { matchesAny } from '../domain/matching';
import { DEFAULT_TIMEOUT_MS, parseDuration } from '../domain/schedule';
import type { HeraldEvent } from '../domain/schemas';
import type { EventStatus } from '../domain/status';
import { findByIds, type DeliveryDoc, type Store, type SubscriptionDoc } from '../store';
import {
  closeDelivery,
  createAttemptRecorder,
  createDeliveries,
  deliveriesOfRun,
  deliveryKey,
  followsOpening,
  OPENING_CLAIM_MS,
  reopenDelivery,
  UNATTEMPTED,
} from '../store/deliveries';
import { eventDocOf, eventOf, isMarkedForPurge, isRecorded, recordEvent, setEventStatus } from '../store/events';
import { findSubscription } from '../store/subscriptions';
import type { ActivityCaches } from './caches';
import { deferredDelivery, resultOf, stateOf } from './delivery-state';
import { recordEventStatus } from './event-status';
import type { TemporalGateway } from './gateway';
import type { AttemptResult, ControlInput, DeliveryState, MatchInput, OpenEventInput, RecordEventInput } from './types';

/**
 * The audit's writes for an event's workflow: the event, its deliveries, their closing and
 * reopening by a signal, and the event's final status. Each is idempotent, and each is quick:
 * the workflow runs them as local activities.
 */

export interface AuditDeps {
  store: Store;
  caches: ActivityCaches;
  gateway: TemporalGateway;
}

const DIGEST_FEED_CONCURRENCY = 16;

interface MatchedSubscriptions {
  /** The version of the tenant's subscriptions matched; absent for the one subscription asked for. */
  version?: number;
  deliver: SubscriptionDoc[];
  digests: SubscriptionDoc[];
  filteredOut: string[];
}

export function createAuditActivities(deps: AuditDeps) {
  const { store } = deps;
  const recorder = createAttemptRecorder(store);

  /**
   * The subscriptions an event goes to: a delivery of its own, or through their digest; and
   * those whose types matched but whose filter the event failed. The event is read only when
   * a filter needs it.
   */
  async function subscriptionsFor(input: MatchInput, readEvent: () => Promise<HeraldEvent>): Promise<MatchedSubscriptions> {
    if (input.only) {
      const sub = await findSubscription(store, input.tenant, input.only);
      return { deliver: sub ? [sub] : [], digests: [], filteredOut: [] };
    }
    const wanted: SubscriptionDoc[] = [];
    const filteredOut: string[] = [];
    let event: HeraldEvent | undefined;
    const { version, subs } = await deps.caches.matchable(input.tenant, input.subscriptionsVersion);
    for (const { doc, filter } of subs) {
      // A digest event is not collected into digests itself.
      if (!matchesAny(doc.eventTypes, input.eventType) || (doc.digest && input.eventType === DIGEST_EVENT_TYPE)) continue;
      if (filter && !filter((event ??= await readEvent()))) filteredOut.push(doc._id);
      else wanted.push(doc);
    }
    return {
      version,
      deliver: wanted.filter((s) => !s.digest),
      digests: wanted.filter((s) => s.digest),
      filteredOut: filteredOut.sort(),
    };
  }

  async function feedDigests(input: MatchInput, digests: SubscriptionDoc[]): Promise<void> {
    await mapConcurrent(digests, DIGEST_FEED_CONCURRENCY, (s) =>
      deps.gateway.feedDigest(input.tenant, s._id, {
        eventId: input.eventId,
        workflowId: input.workflowId,
        every: s.digest!.every,
        ...(s.digest!.maxEvents && { maxEvents: s.digest!.maxEvents }),
      }),
    );
  }

  /**
   * Whether a purge is removing the event, read after the opening's claims were written: its
   * mark, or its absence once a purge is done. When this opening wrote the event's record itself
   * with a claim (`eventClaimUntil`) and the mark is read soon after (`followsOpening`, 8 s), the
   * mark alone answers: a purge that marks the event after this read counts that claim
   * (`claimsInFlight`) and deletes nothing while it holds, and nothing else releases it so soon.
   * Only a run of this same opening on another worker, which comes after the workflow task's 10 s
   * timeout, can end the event's run and release the claim; a read later than 8 s reads the
   * record as well. `markedWhenRecorded`, when given, is the mark as read after the claims.
   */
  async function purgeFenced(
    tenant: string,
    eventId: string,
    eventClaimUntil: number | undefined,
    markedWhenRecorded: boolean | undefined,
  ): Promise<boolean> {
    if (markedWhenRecorded ?? (await isMarkedForPurge(store, tenant, eventId))) return true;
    if (eventClaimUntil !== undefined && followsOpening(eventClaimUntil)) return false;
    return !(await isRecorded(store, tenant, eventId));
  }

  /**
   * One pending delivery per subscription, each with a message id of its own. Those in
   * `deferred` are answered as opened but not stored: their first attempts write them (the
   * event's claim, written before this, fences them against a purge as a delivery's would).
   */
  async function openDeliveries(
    input: MatchInput,
    { deliver, version }: MatchedSubscriptions,
    opening: { at: Date; deferred: ReadonlySet<string>; messageIdsAt?: number; eventClaimUntil?: number; purgeMarked?: boolean } = {
      at: new Date(),
      deferred: new Set(),
    },
  ): Promise<DeliveryState[]> {
    const { tenant, eventId, workflowId } = input;
    const sorted = [...deliver].sort((a, b) => a._id.localeCompare(b._id));
    const now = opening.at;
    const openingClaim = new Date(now.getTime() + OPENING_CLAIM_MS);
    const pending = sorted.map((s): DeliveryDoc => ({
      _id: deliveryKey(workflowId, s._id),
      tenant,
      eventId,
      workflowId,
      subscriptionId: s._id,
      channel: s.channel,
      messageId: opening.messageIdsAt === undefined ? newMessageId() : messageIdOf(deliveryKey(workflowId, s._id), opening.messageIdsAt),
      status: 'pending',
      ...UNATTEMPTED,
      ...(input.digest && { digest: true }),
      claimedUntil: openingClaim,
      createdAt: now,
      updatedAt: now,
    }));
    // A retried call keeps the first call's deliveries (and message ids).
    const storedNow = pending.filter((d) => !opening.deferred.has(d.subscriptionId));
    const stored = await createDeliveries(store, storedNow);
    const docs = [...stored, ...pending.filter((d) => opening.deferred.has(d.subscriptionId))];
    // A purge marks the event, stops the run and deletes the event's deliveries, but this
    // activity may still be running in the worker after the stop. Read after the insert: either
    // the mark (or the event's absence, once the purge is done) is seen here, or the mark was
    // written after the insert and the purge's delete removes these deliveries. The mark read
    // with the event's record came after every claim when this call stored no delivery itself.
    const markedWhenRecorded = storedNow.length === 0 ? opening.purgeMarked : undefined;
    if (docs.length > 0 && (await purgeFenced(tenant, eventId, opening.eventClaimUntil, markedWhenRecorded))) {
      await store.deliveries.deleteMany({ tenant, eventId }); // what a finished purge would leave behind
      throw ApplicationFailure.nonRetryable(`event ${eventId} is being purged`, 'EventPurged');
    }
    const timeouts = new Map(sorted.map((s) => [s._id, s.timeoutMs]));
    // The claim each was opened with lets its first attempt skip a claim of its own, and the
    // purge mark read above (after the claim was written) lets it skip reading the mark again.
    return docs
      .map((d) => ({
        ...stateOf(d, timeouts.get(d.subscriptionId) ?? DEFAULT_TIMEOUT_MS),
        ...(d.claimedUntil && d.attempts === 0 && { openingClaimUntil: d.claimedUntil.getTime() }),
        ...(version !== undefined && { matchedAtVersion: version }),
        ...(opening.deferred.has(d.subscriptionId) && { unopened: { at: now.getTime() } }),
      }))
      .sort((a, b) => a.view.subscriptionId.localeCompare(b.view.subscriptionId));
  }

  return {
    /** Writes the event into the audit; `duplicate` when another run already did. */
    async recordEvent(input: RecordEventInput): Promise<'recorded' | 'duplicate'> {
      const { tenant, event, workflowId, runId } = input;
      return (await recordEvent(store, eventDocOf(tenant, event, workflowId, runId, 'delivering'))).outcome === 'duplicate'
        ? 'duplicate'
        : 'recorded';
    },

    /**
     * Finds the active subscriptions that want this event, by type and filter (or the one
     * subscription asked for), and opens one delivery for each, with a message id of its own.
     */
    async matchSubscriptions(input: MatchInput): Promise<DeliveryState[]> {
      // Replays, and runs from before openEvent: the event is in the audit. Their filtered-out
      // subscriptions are not recorded: `filteredOut` is the event's own run's.
      const subs = await subscriptionsFor(input, () => deps.caches.loadEvent(input.tenant, input.eventId));
      await feedDigests(input, subs.digests);
      const opened = await openDeliveries(input, subs);
      // A replay delivers the event again: lists filter on its stored status, which the run's
      // end sets final again (with its other runs').
      if (opened.length > 0) await setEventStatus(store, input.tenant, input.eventId, 'delivering');
      return opened;
    },

    /**
     * `recordEvent` and `matchSubscriptions` in one step, so a run starts with one local
     * activity instead of two. An event that matched nothing is recorded as delivered: its
     * run then has nothing left to write. `duplicate` when another run recorded the event.
     */
    async openEvent(input: OpenEventInput): Promise<DeliveryState[] | 'duplicate'> {
      const { tenant, event, workflowId, runId } = input;
      const match: MatchInput = {
        tenant,
        eventId: event.id,
        eventType: event.type,
        workflowId,
        ...(input.only && { only: input.only }),
        ...(input.digest && { digest: true }),
        ...(input.subscriptionsVersion !== undefined && { subscriptionsVersion: input.subscriptionsVersion }),
      };
      const subs = await subscriptionsFor(match, () => Promise.resolve(event));
      // Recorded before the digests hear of it: a digest reads the events it collected from the audit.
      const status = subs.deliver.length ? 'delivering' : 'delivered';
      const at = new Date();
      const { deferOpening } = input;
      const fast = deferOpening ? subs.deliver.filter((s) => s.timeoutMs <= deferOpening.timeoutMs) : [];
      const deferrable = fast.length <= (deferOpening?.deliveries ?? 0) ? fast : [];
      const doc = {
        ...eventDocOf(tenant, event, workflowId, runId, status, subs.filteredOut),
        ...(input.batch && { batch: input.batch }),
        ...(deferrable.length > 0 && { claimedUntil: new Date(at.getTime() + OPENING_CLAIM_MS) }),
        // Its status is final already (a digest delivers it later), so retention needs telling.
        ...(subs.digests.length > 0 && {
          heldByDigestsUntil: new Date(
            at.getTime() + Math.max(...subs.digests.map((s) => parseDuration(s.digest!.every))) + DIGEST_DELIVERY_GRACE_MS,
          ),
        }),
      };
      const { outcome, purgeMarked } = await recordEvent(store, doc);
      if (outcome === 'duplicate') return 'duplicate';
      // As an attempt would read it back: the message's body is the same whichever worker sends it.
      deps.caches.rememberEvent(tenant, eventOf(doc));
      await feedDigests(match, subs.digests);
      // A retried call cannot tell which first attempts the try before sent: it stores every
      // delivery now, under the message ids that try used.
      return openDeliveries(match, subs, {
        at,
        deferred: new Set(outcome === 'recorded' ? deferrable.map((s) => s._id) : []),
        ...(deferOpening && { messageIdsAt: Date.parse(event.receivedAt) }),
        ...(outcome === 'recorded' && doc.claimedUntil && { eventClaimUntil: doc.claimedUntil.getTime() }),
        ...(purgeMarked !== undefined && { purgeMarked }),
      });
    },

    /** The deliveries a workflow id opened, for a run that continues its work. */
    async loadDeliveries(input: { workflowId: string }): Promise<DeliveryState[]> {
      const docs = await deliveriesOfRun(store, input.workflowId);
      const subs = await findByIds(
        store.subscriptions,
        docs.map((d) => d.subscriptionId),
      );
      const timeouts = new Map(subs.map((s) => [s._id, s.timeoutMs]));
      return docs.map((d) => stateOf(d, timeouts.get(d.subscriptionId) ?? DEFAULT_TIMEOUT_MS));
    },

    /** Closes a delivery as cancelled, recording who asked. */
    async cancelDelivery(input: ControlInput): Promise<AttemptResult> {
      // A delivery not stored yet is stored first, unless its event is being purged (then it is missing, as below).
      const storable = !input.opening || (await recorder.openDeferred(deferredDelivery(input.deliveryId, input.opening)));
      const doc = storable && (await closeDelivery(store, input.deliveryId, 'cancelled', `cancelled by ${input.action.by}`, input.action));
      if (!doc) throw ApplicationFailure.nonRetryable(`delivery ${input.deliveryId} is not in the audit`, 'DeliveryMissing');
      return resultOf(doc, Date.now());
    },

    /** Gives a failed delivery a fresh run of its schedule, recording who asked. */
    async reopenDelivery(input: ControlInput & { attempts: number }): Promise<void> {
      await reopenDelivery(store, input.deliveryId, input.attempts, input.action);
    },

    /** Stores the event's status when its run ends (`recordEventStatus`). */
    finishEvent(input: { tenant: string; eventId: string; status: EventStatus }): Promise<void> {
      return recordEventStatus(store, input.tenant, input.eventId, input.status);
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;
