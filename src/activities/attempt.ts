import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { MessageContent, SentAttempt, Transports } from '../channels/channel';
import type { ControlAction } from '../domain/schemas';
import { channelOf } from '../channels';
import { mapConcurrent } from '../concurrency';
import type { DigestData } from '../domain/digest';
import { nextDelayMs, retryPolicyOf } from '../domain/schedule';
import { eventStatusOf, isFinal } from '../domain/status';
import type { WorkerMetrics } from '../metrics';
import type { AttemptDoc, AttemptedDelivery, Store } from '../store';
import {
  claimDelivery,
  claimHolds,
  followsOpening,
  closeDelivery,
  createAttemptRecorder,
  releaseDelivery,
  type DeliveryProgress,
} from '../store/deliveries';
import { eventOf, findEventsByIds, isPurging, releaseEventClaim } from '../store/events';
import { activeTraceId } from '../tracing';
import type { ActivityCaches } from './caches';
import { deferredDelivery, deferredFirstAttempt, openedDelivery, resultOf, trackedView } from './delivery-state';
import { recordEventStatus } from './event-status';
import type { SubscriptionHealth } from './subscription-health';
import type { createThrottle } from './throttle';
import type { AuditActivities } from './audit';
import type {
  AttemptInput,
  AttemptResult,
  FirstAttemptsInput,
  FirstAttemptsResult,
  OpenedDelivery,
  OpenedEvent,
  OpenEventInput,
} from './types';

/**
 * The attempt: one try of one delivery, from the claim that fences it against a purge, through
 * the channel's message and send (src/channels/), to the one write that records its outcome.
 */

export interface AttemptDeps extends Transports {
  store: Store;
  caches: ActivityCaches;
  health: SubscriptionHealth;
  metrics: WorkerMetrics;
  /** Per-subscription concurrency and rate limits (src/activities/throttle.ts). */
  throttle: ReturnType<typeof createThrottle>;
  /** The audit's opening of an event (src/activities/audit.ts), which `openEventWithFirstAttempts` starts with. */
  openEvent: AuditActivities['openEvent'];
}

const HEARTBEAT_EVERY_MS = 1000;
/** As many sends at once as the worker's activity slots (src/worker.ts). */
const FIRST_ATTEMPTS_CONCURRENCY = 50;

/** The claim an attempt runs under. */
interface Claim {
  /** When it lapses (epoch ms). */
  until: number;
  /** The claim the delivery was opened with, and the attempt follows the opening: the opening's purge-mark read fences it (`followsOpening`). */
  fencedAtOpening: boolean;
  /** The opening's version of the tenant's subscriptions. */
  matchedAtVersion?: number;
  /** The delivery as opened, when its opening was deferred to this attempt: it is not stored yet. */
  deferred?: OpenedDelivery;
}

/** An attempt that waited past its claim: it sends nothing and starts over under a claim of its own. */
const CLAIM_LAPSED = Symbol('claim lapsed');

export function createAttemptActivities(deps: AttemptDeps) {
  const { store, metrics } = deps;
  const { recordAttempt, recordOpening, openDeferred } = createAttemptRecorder(store);

  return {
    /**
     * One attempt of one webhook delivery, and what comes next: final, or the delay before
     * the next attempt. Heartbeats throughout: a slow store read must not look like a lost
     * worker, and a cancel must reach the request in flight.
     */
    async attemptDelivery(input: AttemptInput): Promise<AttemptResult> {
      const ctx = Context.current();
      // A local attempt has no heartbeat: its workflow task's timeout watches the worker.
      const heartbeat = ctx.info.isLocal ? undefined : setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await attemptOnce(input, ctx);
      } finally {
        clearInterval(heartbeat);
      }
    },

    /**
     * The first attempts of the deliveries an event's run just opened, together: one local
     * activity (one marker, one workflow activation) for the event's fan-out instead of one
     * each. An attempt that fails here, rather than answering the receiver's outcome, is left to
     * an activity of its own (null). A retry of this activity finds the attempts recorded by the
     * try before and answers them without sending again, as `attemptDelivery` does.
     */
    async attemptFirstDeliveries(input: FirstAttemptsInput): Promise<FirstAttemptsResult> {
      const ctx = Context.current();
      const results = await makeFirstAttempts(input.attempts, ctx);
      // The workflow was cancelled: its deliveries close as cancelled, the sent ones keep their outcome.
      // (The run's end records the event's status, which clears the event's claim.)
      if (ctx.cancellationDetails?.cancelRequested) throw new CancelledFailure('deliveries cancelled');
      return settleFirstAttempts(input, results);
    },

    /**
     * `openEvent`, then the first attempts of the deliveries it deferred, as
     * `attemptFirstDeliveries` makes them: an ingested event's run starts with one local activity
     * (one marker, one workflow activation) instead of two. A cancel of the workflow does not stop
     * a try's opening, which the event's record needs; the attempts not sent by then are left to
     * the workflow, which closes their deliveries as cancelled, and the sent ones keep their
     * outcome. A retried call attempts nothing: a cancel that reached the try before is not seen
     * by this one, so the workflow makes the attempts, or closes them when it was cancelled.
     */
    async openEventWithFirstAttempts(input: OpenEventInput): Promise<OpenedEvent | 'duplicate'> {
      const ctx = Context.current();
      const deliveries = await deps.openEvent(input);
      if (deliveries === 'duplicate') return deliveries;
      const attempting = ctx.info.attempt === 1 && !ctx.cancellationDetails?.cancelRequested;
      const deferred = attempting ? deliveries.filter((d) => d.unopened) : [];
      if (deferred.length === 0) return { deliveries, attempted: [], firstAttempts: { results: [] } };
      const tenant = input.tenant;
      const eventId = input.event.id;
      const firsts = deferred.map((d) => deferredFirstAttempt(tenant, eventId, d));
      const results = await makeFirstAttempts(firsts, ctx);
      const attempted = deferred.map((d) => d.deliveryId);
      if (ctx.cancellationDetails?.cancelRequested) return { deliveries, attempted, firstAttempts: { results } };
      const finish = deferred.length === deliveries.length ? { finish: { tenant, eventId } } : {};
      return { deliveries, attempted, firstAttempts: await settleFirstAttempts({ attempts: firsts, ...finish }, results) };
    },
  };

  /** First attempts made together; one that fails here, rather than answering the receiver's outcome, is left to an activity of its own (null). */
  function makeFirstAttempts(attempts: AttemptInput[], ctx: Context): Promise<(AttemptResult | null)[]> {
    return mapConcurrent(attempts, FIRST_ATTEMPTS_CONCURRENCY, (attempt) =>
      attemptOnce(attempt, ctx).catch((err: unknown) => {
        if (!ctx.cancellationDetails?.cancelRequested) {
          ctx.log.warn('first attempt left to an activity of its own', { deliveryId: attempt.deliveryId, error: String(err) });
        }
        return null;
      }),
    );
  }

  /** After first attempts made together: the event's status when they are all of its deliveries and end it, else its claim released. */
  async function settleFirstAttempts(input: FirstAttemptsInput, results: (AttemptResult | null)[]): Promise<FirstAttemptsResult> {
    const { finish } = input;
    if (!finish || !results.every((r) => r?.retryDelayMs === null)) {
      // The deferred openings' sends are over: a purge need not wait for the event's claim.
      const deferred = input.attempts.find((a) => a.opened?.unopened)?.opened;
      if (deferred) await releaseEventClaim(store, deferred.tenant, deferred.eventId);
      return { results };
    }
    const finished = eventStatusOf(results.map((r) => r!.view));
    await recordEventStatus(store, finish.tenant, finish.eventId, finished); // also clears the event's claim
    return { results, finished };
  }

  /** Stores a delivery whose opening was deferred, as opened; fails it for good when its event is being purged. */
  async function storeOpened(deliveryId: string, opened: OpenedDelivery): Promise<void> {
    if (!(await openDeferred(deferredDelivery(deliveryId, opened)))) {
      throw ApplicationFailure.nonRetryable(`delivery ${deliveryId} is being purged`, 'DeliveryMissing');
    }
  }

  async function messageContent(delivery: AttemptedDelivery): Promise<MessageContent> {
    const event = await deps.caches.loadEvent(delivery.tenant, delivery.eventId);
    if (!delivery.digest) return { event, collected: null };
    const { eventIds, window } = event.data as unknown as DigestData;
    const stored = new Map((await findEventsByIds(store, delivery.tenant, eventIds)).map((doc) => [doc.id, eventOf(doc)]));
    // An event removed by retention since it was collected is left out rather than failing the digest.
    return { event, collected: { events: eventIds.flatMap((id) => stored.get(id) ?? []), window } };
  }

  /**
   * Makes the attempt under a claim (see `claimDelivery`): the one the delivery was opened with
   * while it holds, else one of its own. Every end of the attempt clears the claim: recording it
   * does, and so does any throw, so that a purge waits only for attempts that may still send.
   */
  async function attemptOnce(input: AttemptInput, ctx: Context): Promise<AttemptResult> {
    const { opened } = input;
    // Only the activity's first try: a try that ended released the opening claim.
    if (opened && ctx.info.attempt === 1 && claimHolds(opened.claimedUntil, 0)) {
      const follows = followsOpening(opened.claimedUntil);
      const result = await attemptUnderClaim(openedDelivery(input.deliveryId, opened), input, ctx, {
        until: opened.claimedUntil,
        fencedAtOpening: follows,
        ...(follows && opened.matchedAtVersion !== undefined && { matchedAtVersion: opened.matchedAtVersion }),
        ...(opened.unopened && { deferred: opened }),
      });
      if (result !== CLAIM_LAPSED) return result;
    }
    // A deferred opening that this attempt does not make under the event's claim: stored first,
    // as opened. A try before may have stored it already, and may have recorded this attempt.
    if (opened?.unopened) await storeOpened(input.deliveryId, opened);
    const delivery = await claimDelivery(store, input.deliveryId);
    if (!delivery) throw ApplicationFailure.nonRetryable(`delivery ${input.deliveryId} is not in the audit`, 'DeliveryMissing');
    const result = await attemptUnderClaim(delivery, input, ctx, { until: delivery.claimedUntil!.getTime(), fencedAtOpening: false });
    if (result === CLAIM_LAPSED) throw new Error(`the claim of ${input.deliveryId} lapsed before its attempt could send`);
    return result;
  }

  async function attemptUnderClaim(
    delivery: AttemptedDelivery,
    input: AttemptInput,
    ctx: Context,
    claim: Claim,
  ): Promise<AttemptResult | typeof CLAIM_LAPSED> {
    try {
      return await attemptClaimed(delivery, input, ctx, claim);
    } catch (err) {
      await releaseDelivery(store, delivery._id).catch(() => undefined); // the claim then lapses
      throw err;
    }
  }

  async function attemptClaimed(
    delivery: AttemptedDelivery,
    input: AttemptInput,
    ctx: Context,
    claim: Claim,
  ): Promise<AttemptResult | typeof CLAIM_LAPSED> {
    // After the claim: a purge that marked the event before it is seen here; one that marks it
    // later sees the claim and waits for this attempt to record its outcome. The opening claim
    // had its read already: `openEvent` read the mark after writing it.
    if (!claim.fencedAtOpening && (await deps.caches.markedForPurge(delivery.tenant, delivery.eventId))) {
      throw ApplicationFailure.nonRetryable(`delivery ${input.deliveryId} is being purged`, 'DeliveryMissing');
    }
    // Made already: this is a retry of an activity whose first try recorded it before it was lost.
    if (isFinal(delivery.status) || delivery.attempts >= input.attempt) {
      await releaseDelivery(store, delivery._id);
      return resultOf(delivery, Date.now());
    }

    const sub =
      claim.matchedAtVersion === undefined
        ? await deps.caches.subscription(delivery.tenant, delivery.subscriptionId)
        : await deps.caches.subscriptionAt(delivery.tenant, delivery.subscriptionId, claim.matchedAtVersion);
    // Every end of an attempt but a recorded send needs the delivery stored (closed, or waiting).
    const stored = () => (claim.deferred ? storeOpened(delivery._id, claim.deferred) : Promise.resolve());
    if (!sub || (!sub.active && !input.ping)) {
      const reason = sub ? 'subscription_disabled' : 'subscription_deleted';
      await stored();
      const closed = await closeDelivery(store, delivery._id, 'failed', reason, input.trigger);
      metrics.deliveries.inc({ channel: delivery.channel, outcome: 'failed' });
      return resultOf(closed ?? delivery, Date.now());
    }

    const content = await messageContent(delivery);
    const attempt = input.attempt;
    const startedAt = new Date();
    const traceId = activeTraceId();
    const prepared = channelOf(sub).prepare({ delivery, content, startedAt, signal: ctx.cancellationSignal, transports: deps });
    const attemptDoc = (durationMs: number, response: AttemptDoc['response'], error: string | null): AttemptDoc => ({
      _id: `${delivery._id}#${attempt}`,
      tenant: delivery.tenant,
      eventId: delivery.eventId,
      deliveryId: delivery._id,
      subscriptionId: delivery.subscriptionId,
      attempt,
      startedAt,
      durationMs,
      request: prepared.request,
      response,
      error,
      ...(traceId && { traceId }),
    });

    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('delivery cancelled before the request was sent');
    const admission = await deps.throttle.admit(sub._id, sub.rateLimitPerSecond);
    if (!admission.admitted) {
      // Not an attempt: nothing is sent or recorded, and the workflow asks again after the wait.
      metrics.throttled.inc({ channel: sub.channel });
      await stored();
      await releaseDelivery(store, delivery._id);
      return { view: trackedView(delivery), retryDelayMs: admission.retryInMs };
    }
    // The claim must outlast the request and its record, or a purge could answer while it runs.
    if (!claimHolds(claim.until, sub.timeoutMs)) {
      admission.release();
      return CLAIM_LAPSED;
    }
    let sent: SentAttempt;
    try {
      sent = await prepared.send();
    } catch (err) {
      // Only a cancel someone asked for ends the attempt here; a timeout or a worker shutdown
      // also aborts the request, and then Temporal retries the attempt.
      if (!ctx.cancellationDetails?.cancelRequested) throw err;
      // The receiver may have seen the request: the audit keeps the aborted attempt. The
      // workflow then closes the delivery as cancelled, naming who asked.
      const aborted = 'request aborted: delivery cancelled';
      await record(attemptDoc(Date.now() - startedAt.getTime(), null, aborted), {
        status: delivery.status,
        lastAttemptAt: startedAt,
        lastResponseStatus: null,
        nextAttemptAt: null,
        error: aborted,
      });
      throw new CancelledFailure('delivery cancelled');
    } finally {
      admission.release();
    }
    const durationMs = Date.now() - startedAt.getTime();

    const { outcome } = sent;
    const succeeded = outcome.kind === 'succeeded';
    const gone = outcome.kind === 'permanent' && outcome.disableSubscription;
    const error = outcome.kind === 'succeeded' ? null : outcome.reason;
    // Before the attempt is recorded, so a retried activity that finds it recorded has nothing left to do.
    const disabled = await deps.health.track(sub, succeeded, gone, startedAt);

    let retryDelayMs: number | null = null;
    if (outcome.kind === 'retryable' && !disabled) {
      const policy = retryPolicyOf(input.ping ? { ...sub.retry, maxAttempts: 1 } : sub.retry);
      const scheduled = nextDelayMs(policy, attempt - input.scheduleBase);
      retryDelayMs = scheduled === null ? null : Math.max(scheduled, outcome.minDelayMs ?? 0);
    }
    const progress: DeliveryProgress = {
      status: succeeded ? 'succeeded' : retryDelayMs === null ? 'failed' : 'retrying',
      lastAttemptAt: startedAt,
      lastResponseStatus: sent.status,
      nextAttemptAt: retryDelayMs === null ? null : new Date(Date.now() + retryDelayMs),
      error: disabled && !gone ? `${error}; subscription_disabled` : error,
    };
    await record(attemptDoc(durationMs, sent.response, error), progress, input.trigger);
    metrics.attemptDuration.observe({ channel: sub.channel, outcome: outcome.kind }, durationMs / 1000);
    if (progress.status !== 'retrying') metrics.deliveries.inc({ channel: sub.channel, outcome: progress.status });

    const actions = [...(delivery.actions ?? []), ...(input.trigger ? [input.trigger] : [])];
    return {
      view: trackedView({ ...delivery, ...progress, attempts: attempt, actions }),
      retryDelayMs,
    };

    /** Records the attempt: the delivery's one write, an insert when its opening was deferred to it. */
    async function record(doc: AttemptDoc, progress: DeliveryProgress, trigger?: ControlAction): Promise<void> {
      const opened = claim.deferred;
      if (!opened) return recordAttempt(doc, progress, trigger);
      const actions = [...(delivery.actions ?? []), ...(trigger ? [trigger] : [])];
      await recordOpening(doc, {
        ...deferredDelivery(delivery._id, opened),
        ...progress,
        attempts: doc.attempt,
        actions,
        updatedAt: new Date(),
      });
      // Past the claim a purge may have ended without waiting for this record: it goes too.
      if (!claimHolds(claim.until, 0) && (await isPurging(store, delivery.tenant, delivery.eventId))) {
        await store.deliveries.deleteOne({ _id: delivery._id });
        await store.attempts.deleteOne({ _id: doc._id });
      }
    }
  }
}

export type AttemptActivities = ReturnType<typeof createAttemptActivities>;
