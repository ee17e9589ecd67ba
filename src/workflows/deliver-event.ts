import {
  ActivityCancellationType,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AttemptActivities } from '../activities/attempt';
import type { AuditActivities } from '../activities/audit';
import type { AttemptInput, AttemptResult, DeliveryState, OpenedDelivery, OpenedEvent } from '../activities/types';
import { PING_EVENT_TYPE } from '../domain/own-events';
import type { ControlAction, EventView } from '../domain/schemas';
import { eventStatusOf, isFinal, type EventStatus } from '../domain/status';
import { eventWorkflowId } from '../temporal/names';
import { HeraldStatus, HeraldSubscriptionIds, indexableSubscriptionIds } from '../temporal/search-attributes';
import { historyIsLong } from './history';
import {
  ACTIVITY_RETRY,
  cancelSignal,
  DELIVER_EVENT_REVISION,
  retrySignal,
  statusQuery,
  type ControlRecord,
  type ControlRequest,
  type DeliverEventInput,
} from './definitions';

/**
 * Store tier: audit reads and writes, short and idempotent, so they run as local
 * activities: in the worker that runs the workflow, without a round trip through the
 * Temporal server's task queues (a marker each in the history). Retried without limit, so
 * an outage of the store delays deliveries instead of losing them.
 */
const store = proxyLocalActivities<AuditActivities>({
  startToCloseTimeout: '30s',
  retry: ACTIVITY_RETRY,
});

/**
 * Delivery tier: one activity execution per attempt (a local one for fast receivers, see
 * LOCAL_ATTEMPT_MAX_MS), so each attempt is visible in the Web UI and the workflow knows
 * every delivery's state for its `status` query. Temporal's
 * retries here only cover a lost worker or store; the receiver's failures come back as
 * results and the workflow waits out the schedule itself, where a `retry` signal can cut the
 * wait short. It heartbeats, so a lost worker is noticed within seconds and a cancel
 * reaches an attempt in flight; the workflow waits for that attempt to stop before it
 * records the delivery as cancelled.
 */
function deliveryTier(timeoutMs: number) {
  return proxyActivities<AttemptActivities>({
    // The receiver's timeout plus room for the store reads and writes around the request.
    startToCloseTimeout: timeoutMs + 60_000,
    heartbeatTimeout: '4s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: ACTIVITY_RETRY,
  });
}

/**
 * Receivers that must answer within this long get their attempts as local activities: run
 * by the worker that runs the workflow and recorded as a marker, with no activity task
 * through the Temporal server (its history writes, task queue dispatch and the workflow
 * task that reports the result). `make bench` measured it on the same machine: fan-out to
 * 100 in 0.6 s instead of 2.1 s, end-to-end p50 77 ms instead of 481 ms at 10 events/s.
 * A local activity holds its workflow task, so a `cancel` or `retry` signal reaches the
 * workflow only when the attempt ends: the bound keeps that wait within the receiver's
 * own timeout. Longer bounds were tried: at the default 10 s task timeout a cancel waited
 * up to 8 s for the task's heartbeat, and a 3 s task timeout made tasks time out under
 * load, which re-ran their local attempts and collapsed throughput. Slower receivers
 * (the default timeoutMs is 15 s) keep the remote tier, where a cancel aborts the request
 * in flight at once.
 */
export const LOCAL_ATTEMPT_MAX_MS = 5_000;

function localDeliveryTier(timeoutMs: number) {
  return proxyLocalActivities<AttemptActivities>({
    startToCloseTimeout: timeoutMs + 60_000,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: ACTIVITY_RETRY,
  });
}

/** Attempts per `attemptFirstDeliveries`: its result, a view of each delivery, stays well under Temporal's 2 MB payload limit. */
export const FIRST_ATTEMPTS_PER_ACTIVITY = 100;

/**
 * The tier of one attempt. Runs started before revisions decide by the patch marker, which
 * keeps histories recorded before local attempts existed replaying their remote activities.
 * (Runs recorded while the bound was 15 s, before 9c78c4e, do not replay attempts to receivers
 * allowed 5 to 15 s: the marker cannot tell them from today's; no deployment had such runs.)
 */
function attemptTier(timeoutMs: number, revision: number) {
  const local = timeoutMs <= LOCAL_ATTEMPT_MAX_MS && (revision >= 1 || patched('local-attempts'));
  return local ? localDeliveryTier(timeoutMs) : deliveryTier(timeoutMs);
}

interface Slot extends DeliveryState {
  looping: boolean;
  scope?: CancellationScope;
  cancel?: ControlAction;
  wake?: ControlAction;
  /** `wake` is Herald's own wake-up: it cuts a wait short, and reopens nothing. */
  wakeOnlyIfWaiting?: boolean;
  reopen?: ControlAction;
}

/**
 * One event's deliveries: record the event in the audit, find the subscriptions that want
 * it, and deliver to each concurrently on its retry schedule. `cancel` and `retry` signals
 * steer them; a retry that arrives after the run closed starts a new run in `resume` mode.
 * Running as its own workflow, an event survives crashes of any process from the moment the
 * API answered 202.
 */
export async function deliverEvent(input: DeliverEventInput): Promise<EventView> {
  const { tenant, event } = input;
  const mode = input.mode ?? { kind: 'ingest' };
  const revision = input.revision ?? 0;
  /** A digest's event delivers the events it lists: in its own run, and when replayed. */
  const digest = mode.kind === 'digest' || (mode.kind === 'replay' && !!mode.digest);
  const { workflowId, runId } = workflowInfo();
  /**
   * A `herald.ping` (a subscription's test) is one attempt, made also when the subscription is
   * disabled: in its own run, and from revision 4 in a run resuming its own run after a retry (a
   * replay of a ping is delivered, and retried, as any event is).
   */
  const ping =
    mode.kind === 'ping' ||
    (revision >= 4 &&
      mode.kind === 'resume' &&
      event.type === PING_EVENT_TYPE &&
      event.source === 'herald' &&
      workflowId === eventWorkflowId(tenant, event.id));
  const slots: Slot[] = [];
  /** Requests that arrived before the deliveries were known, or while handing over to a new run. */
  const queued: ControlRecord[] = [...(input.carried ?? [])];
  let accepting = false;
  let draining = false;
  let running = 0;
  let matched = false; // until matching ran, "no deliveries" means "not known yet", not "delivered"
  let reportedStatus: EventStatus = 'delivering';

  const status = (): EventStatus => (matched ? eventStatusOf(slots.map((s) => s.view)) : 'delivering');
  const view = (): EventView => ({ event, status: status(), deliveries: slots.map((s) => s.view) });
  setHandler(statusQuery, view);
  setHandler(cancelSignal, (req) => control(requestOf('cancel', req)));
  setHandler(retrySignal, (req) => control(requestOf('retry', req)));

  function control(request: ControlRecord): void {
    if (!accepting) {
      queued.push(request);
      return;
    }
    const { subscriptionId, onlyIfWaiting, ...action } = request;
    for (const slot of slots) {
      if (!subscriptionId || slot.view.subscriptionId === subscriptionId) apply(slot, action, revision >= 5 && !!onlyIfWaiting);
    }
  }

  function apply(slot: Slot, request: ControlAction, onlyIfWaiting: boolean): void {
    if (request.action === 'cancel') {
      if (!slot.looping && isFinal(slot.view.status)) return;
      slot.cancel ??= request;
      slot.scope?.cancel(); // an attempt in flight is aborted
    } else if (slot.looping) {
      wake(slot, request, onlyIfWaiting); // waiting for its next attempt: attempt now
    } else if (slot.view.status === 'failed') {
      if (onlyIfWaiting) return;
      slot.reopen = request; // a fresh run of the schedule
      void deliver(slot, 0);
    } else if (revision >= 4 && !isFinal(slot.view.status)) {
      wake(slot, request, onlyIfWaiting); // its loop has not started yet (a request carried over, or sent with the start): it attempts at once
    }
  }

  /** The first request to wake a delivery is its trigger, unless one that may reopen it follows a wake-up that may not. */
  function wake(slot: Slot, request: ControlAction, onlyIfWaiting: boolean): void {
    if (slot.wake && !(slot.wakeOnlyIfWaiting && !onlyIfWaiting)) return;
    slot.wake = request;
    slot.wakeOnlyIfWaiting = onlyIfWaiting;
  }

  function update(slot: Slot, next: DeliveryState['view']): void {
    slot.view = next;
    reportStatus();
  }

  /** Shows the event's status in Temporal (the Web UI's HeraldStatus column) when it changed. */
  function reportStatus(): void {
    const now = status();
    if (now !== reportedStatus) {
      reportedStatus = now;
      upsertSearchAttributes([{ key: HeraldStatus, value: now }]);
    }
  }

  /**
   * Runs one delivery until it is final, cancelled, or handed to the next run. `made` is its
   * first attempt when the run made it together with others (`attemptFirst`): null when it
   * was left for the delivery to make itself.
   */
  async function deliver(slot: Slot, initialDelayMs: number, made?: Promise<AttemptResult | null>): Promise<void> {
    slot.looping = true;
    running++;
    let reopenAfter = false;
    try {
      if (slot.reopen) {
        const action = slot.reopen;
        const { attempts } = slot.view;
        await store.reopenDelivery({ deliveryId: slot.deliveryId, attempts, action });
        slot.reopen = undefined;
        slot.scheduleBase = attempts;
        update(slot, { ...slot.view, status: 'pending', error: null, nextAttemptAt: null, actions: [...slot.view.actions, action] });
      }
      let delayMs = initialDelayMs;
      for (;;) {
        if (delayMs > 0 && !slot.wake && !slot.cancel) {
          await condition(() => !!slot.wake || !!slot.cancel || draining, delayMs);
        }
        if (slot.cancel) {
          const closed = await store.cancelDelivery({ deliveryId: slot.deliveryId, action: slot.cancel, ...opening(slot) });
          slot.unopened = undefined;
          update(slot, closed.view);
          return;
        }
        if (draining) {
          // The next run picks the delivery up from the audit, and a retry that woke it with it.
          if (revision >= 4 && slot.wake) {
            queued.push({ ...slot.wake, subscriptionId: slot.view.subscriptionId, ...(slot.wakeOnlyIfWaiting && { onlyIfWaiting: true }) });
          }
          return;
        }
        const trigger = slot.wake;
        slot.wake = slot.wakeOnlyIfWaiting = undefined;
        // Offered once: an attempt that does not record (throttled, say) ends the opening claim.
        const { openingClaimUntil, matchedAtVersion } = slot;
        slot.openingClaimUntil = slot.matchedAtVersion = undefined;
        let result: AttemptResult;
        try {
          slot.scope = new CancellationScope();
          const attempt = slot.view.attempts + 1;
          const first = made && (await made);
          made = undefined;
          result =
            first ??
            (await slot.scope.run(() =>
              attemptTier(slot.timeoutMs, revision).attemptDelivery({
                deliveryId: slot.deliveryId,
                attempt,
                scheduleBase: slot.scheduleBase,
                ...(ping && { ping: true }),
                ...(trigger && { trigger }),
                ...(openingClaimUntil !== undefined
                  ? { opened: openedAs(slot, openingClaimUntil, matchedAtVersion) }
                  : slot.unopened && { opened: openedAs(slot, 0, undefined) }), // no claim left: it stores the delivery first
              }),
            ));
        } catch (err) {
          if (slot.cancel && isCancellation(err)) continue; // closed as cancelled at the top
          throw err;
        } finally {
          slot.scope = undefined;
        }
        slot.unopened = undefined; // an attempt that answers has stored its delivery
        update(slot, result.view);
        if (result.retryDelayMs === null) {
          if (revision >= 4) {
            // A retry asked for during the attempt that failed the delivery reopens it, as one
            // asked for after would (in `finally`, once this loop is done).
            if (slot.wake && !slot.wakeOnlyIfWaiting && slot.view.status === 'failed') slot.reopen = slot.wake;
            reopenAfter = !!slot.reopen;
            slot.wake = slot.wakeOnlyIfWaiting = undefined;
          }
          return;
        }
        delayMs = result.retryDelayMs;
      }
    } catch (err) {
      if (isCancellation(err)) {
        // The workflow itself was cancelled (the Web UI's Cancel, `temporal workflow cancel`):
        // a cancel of every delivery, asked for in Temporal.
        await CancellationScope.nonCancellable(async () => {
          const action = requestOf('cancel', undefined);
          const closed = await store.cancelDelivery({ deliveryId: slot.deliveryId, action, ...opening(slot) });
          slot.unopened = undefined;
          update(slot, closed.view);
        });
        return;
      }
      // Only a non-retryable failure gets here (its delivery or event left the audit): the
      // delivery cannot go on, the others can.
      update(slot, { ...slot.view, status: 'failed', nextAttemptAt: null, error: String((err as Error).message) });
    } finally {
      slot.looping = false;
      running--;
      if (reopenAfter) void deliver(slot, 0);
    }
  }

  // A cancel of the workflow in Temporal closes its deliveries as cancelled, and the run writes
  // the final status before it ends as cancelled: the audit steps are not cancellable, and the
  // deliveries see the cancel themselves (in `deliver`). Runs recorded before the patch ended
  // at the cancel, leaving the audit open.
  const cancelClosesDeliveries = revision >= 1 || patched('cancel-closes-deliveries');
  const auditStep = <T>(step: () => Promise<T>): Promise<T> => (cancelClosesDeliveries ? CancellationScope.nonCancellable(step) : step());
  const waitFor = (done: () => boolean): Promise<void> => auditStep(() => condition(done));

  // From revision 1 a run records its event and opens its deliveries in one local activity, and
  // an event that matched nothing is recorded final by it; earlier runs took two activities and
  // wrote the final status at the end.
  let recordedFinal = false;
  /** The status the audit has for the event, when this run recorded it before its end. */
  let recordedStatus: EventStatus | undefined;
  let states: DeliveryState[];
  /** The first attempts the opening made (revision 6). */
  let madeWithOpening: OpenedEvent | undefined;
  if (mode.kind === 'resume') {
    states = await auditStep(() => store.loadDeliveries({ workflowId }));
  } else {
    const match = {
      ...(mode.kind !== 'ingest' && mode.subscriptionId && { only: mode.subscriptionId }),
      ...(digest && { digest: true }),
    };
    const records = mode.kind !== 'replay';
    if (records && revision >= 1) {
      // Ingested events only: a replay or a ping opens one delivery, which the audit shows at once.
      const defer = revision >= 3 &&
        mode.kind === 'ingest' && { deferOpening: { timeoutMs: LOCAL_ATTEMPT_MAX_MS, deliveries: FIRST_ATTEMPTS_PER_ACTIVITY } };
      const known = input.subscriptionsVersion !== undefined && { subscriptionsVersion: input.subscriptionsVersion };
      const openInput = { tenant, event, workflowId, runId, ...(input.batch && { batch: input.batch }), ...match, ...defer, ...known };
      // With its first attempts unless something asked to steer them first: a request, or a cancel
      // of the workflow, which would stop the cancellable activity before it recorded the event.
      const withAttempts = revision >= 6 && !!defer && queued.length === 0 && !CancellationScope.current().consideredCancelled;
      const openAlone = () => auditStep(() => store.openEvent(openInput));
      const opened = withAttempts
        ? await localDeliveryTier(LOCAL_ATTEMPT_MAX_MS)
            .openEventWithFirstAttempts(openInput)
            // A cancel while the activity waits to be retried (the store is down, say) ends it
            // at once, maybe before any try recorded the event: the opening alone then goes on
            // (idempotent: it finds what a try wrote), and the cancel closes the deliveries.
            .catch((err: unknown) => {
              if (isCancellation(err)) return openAlone();
              throw err;
            })
        : await openAlone();
      if (opened === 'duplicate') {
        // The audit outlived Temporal's retention of the first run: this run delivers nothing.
        matched = true;
        return view();
      }
      if (Array.isArray(opened)) {
        states = opened;
      } else {
        states = opened.deliveries;
        madeWithOpening = opened;
      }
      recordedFinal = states.length === 0;
    } else {
      if (records && (await auditStep(() => store.recordEvent({ tenant, event, workflowId, runId }))) === 'duplicate') {
        matched = true;
        return view();
      }
      states = await auditStep(() => store.matchSubscriptions({ tenant, eventId: event.id, eventType: event.type, workflowId, ...match }));
    }
  }
  slots.push(...states.map((s) => ({ ...s, looping: false })));
  matched = true;
  if (recordedFinal) {
    reportStatus();
    return closedView(); // nothing to deliver, and the audit has the final status already
  }
  upsertSearchAttributes([{ key: HeraldSubscriptionIds, value: indexableSubscriptionIds(slots.map((s) => s.view.subscriptionId)) }]);

  accepting = true;
  if (revision >= 2) {
    // Attempts made with the opening came before the requests that arrived meanwhile.
    const waits = madeWithOpening ? takeAttempts(madeWithOpening) : new Map<Slot, number>();
    // The requests that came first apply first: a delivery cancelled already is not attempted.
    for (const request of queued.splice(0)) control(request);
    const made = attemptFirst();
    for (const slot of slots) startDelivery(slot, made.get(slot), waits.get(slot));
  } else {
    for (const slot of slots) startDelivery(slot);
    for (const request of queued.splice(0)) control(request);
  }

  for (;;) {
    await waitFor(() => running === 0 || historyIsLong(input.historyLimit));
    if (running > 0) {
      // Hand the open deliveries to a fresh run before the history grows unwieldy: the
      // attempts in flight finish, the waiting ones are picked up from the audit.
      draining = true;
      accepting = false;
      await waitFor(() => running === 0);
      // Deliveries that were waiting handed over without seeing a cancel of the workflow: the
      // next run gets it as a request.
      if (cancelClosesDeliveries && CancellationScope.current().consideredCancelled) queued.push(requestOf('cancel', undefined));
      await continueAsNew<typeof deliverEvent>({
        tenant,
        event,
        mode: { kind: 'resume' },
        revision: DELIVER_EVENT_REVISION,
        carried: queued,
        ...(input.historyLimit && { historyLimit: input.historyLimit }),
      });
    }
    reportStatus();
    // Also when the workflow was cancelled: the audit gets the final status all the same.
    if (recordedStatus !== status()) {
      await CancellationScope.nonCancellable(() => store.finishEvent({ tenant, eventId: event.id, status: status() }));
    }
    if (running === 0) break; // else a retry reopened a delivery while the status was written
    recordedStatus = undefined;
  }
  return closedView();

  /** `waitMs`: the wait its first attempt asked for, when that attempt was made with the opening. */
  function startDelivery(slot: Slot, made?: Promise<AttemptResult | null>, waitMs?: number): void {
    if (slot.looping || isFinal(slot.view.status)) return; // a request applied first may have started it
    const next = waitMs ?? (slot.view.nextAttemptAt ? Date.parse(slot.view.nextAttemptAt) - Date.now() : 0);
    void deliver(slot, Math.max(0, next), made);
  }

  /**
   * Makes the first attempts of the deliveries this run just opened to fast receivers, up to
   * FIRST_ATTEMPTS_PER_ACTIVITY in one local activity, and answers each delivery's share. When
   * one activity has all of the event's deliveries, it also records the event's status if they
   * end it.
   */
  function attemptFirst(): Map<Slot, Promise<AttemptResult | null>> {
    const fast = slots.filter(
      (s) => s.openingClaimUntil !== undefined && s.timeoutMs <= LOCAL_ATTEMPT_MAX_MS && !isFinal(s.view.status) && !s.cancel && !s.wake,
    );
    const shares = new Map<Slot, Promise<AttemptResult | null>>();
    for (let from = 0; from < fast.length; from += FIRST_ATTEMPTS_PER_ACTIVITY) {
      const batch = fast.slice(from, from + FIRST_ATTEMPTS_PER_ACTIVITY);
      const finish = batch.length === slots.length && { finish: { tenant, eventId: event.id } };
      // One local activity for the batch: one marker and one activation instead of one each. It
      // holds the workflow task as one attempt's would, so signals still arrive when attempts end.
      const made = localDeliveryTier(Math.max(...batch.map((s) => s.timeoutMs)))
        .attemptFirstDeliveries({ attempts: batch.map(openedAttempt), ...finish })
        .then(({ results, finished }) => {
          if (finished) recordedStatus = finished;
          return results;
        });
      batch.forEach((slot, i) =>
        shares.set(
          slot,
          made.then((results) => results[i]),
        ),
      );
    }
    return shares;
  }

  /**
   * The outcomes of the first attempts made with the opening, and the wait each delivery not
   * final asked for before its next attempt (a throttled one's too, which its view does not
   * show). A delivery the opening left without an outcome attempts in an activity of its own.
   */
  function takeAttempts({ attempted, firstAttempts }: OpenedEvent): Map<Slot, number> {
    const byId = new Map(slots.map((s) => [s.deliveryId, s]));
    const waits = new Map<Slot, number>();
    attempted.forEach((deliveryId, i) => {
      const slot = byId.get(deliveryId)!;
      const result = firstAttempts.results[i];
      // The opening's activity took the opening claim, as `attemptFirst`'s does.
      slot.openingClaimUntil = slot.matchedAtVersion = undefined;
      if (!result) return;
      slot.unopened = undefined; // an attempt that answers has stored its delivery
      slot.view = result.view;
      if (result.retryDelayMs !== null) waits.set(slot, result.retryDelayMs);
    });
    if (firstAttempts.finished) recordedStatus = firstAttempts.finished;
    return waits;
  }

  /** The first attempt of a delivery this run opened, under the claim it was opened with. */
  function openedAttempt(slot: Slot): AttemptInput {
    const { openingClaimUntil, matchedAtVersion } = slot;
    // The shared activity takes the opening claim: a delivery it leaves to itself claims anew.
    slot.openingClaimUntil = slot.matchedAtVersion = undefined;
    return {
      deliveryId: slot.deliveryId,
      attempt: slot.view.attempts + 1,
      scheduleBase: slot.scheduleBase,
      ...(ping && { ping: true }),
      opened: openedAs(slot, openingClaimUntil!, matchedAtVersion),
    };
  }

  /** The delivery as this run opened it, which its first attempt takes instead of a claim and reads. */
  function openedAs(slot: Slot, claimedUntil: number, matchedAtVersion: number | undefined): OpenedDelivery {
    return {
      tenant,
      eventId: event.id,
      view: slot.view,
      claimedUntil,
      ...(matchedAtVersion !== undefined && { matchedAtVersion }),
      ...(digest && { digest: true }),
      ...(slot.unopened && { unopened: slot.unopened }),
    };
  }

  /** For a step that needs the delivery stored: how to store it, while its opening is still deferred. */
  function opening(slot: Slot): { opening?: OpenedDelivery } {
    return slot.unopened ? { opening: openedAs(slot, 0, undefined) } : {};
  }

  /** The run's result; a cancelled workflow shows as cancelled in Temporal, once its audit is final. */
  function closedView(): EventView {
    if (cancelClosesDeliveries && CancellationScope.current().consideredCancelled)
      throw new CancelledFailure('the workflow was cancelled in Temporal');
    return view();
  }
}

function requestOf(action: ControlAction['action'], req: ControlRequest | undefined): ControlRecord {
  return {
    action,
    by: req?.requestedBy ?? 'temporal',
    at: new Date().toISOString(),
    ...(req?.subscriptionId && { subscriptionId: req.subscriptionId }),
    ...(req?.onlyIfWaiting && { onlyIfWaiting: true }),
  };
}
