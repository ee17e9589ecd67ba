import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ControlAction, EventView, HeraldEvent } from '../domain/schemas';

/** Messages of Herald's workflows, shared by the workflows and their clients. */

/**
 * Temporal's retries of every Herald activity: without limit, backing off to a minute, so an
 * outage of the store or a lost worker delays work instead of losing it. A receiver's failures
 * are not retried here: they come back as results and follow the subscription's schedule.
 */
export const ACTIVITY_RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

/** Payload of the `cancel` and `retry` signals (docs/api.md section 5). */
export interface ControlRequest {
  subscriptionId?: string;
  /** Who asked: the HTTP API names the key; a signal sent in Temporal without it reads "temporal". */
  requestedBy?: string;
  /**
   * Herald's own wake-up of a subscription's deliveries when it stops taking them (disabled or
   * deleted): a delivery waiting for its next attempt attempts now; one that failed, or fails in
   * the attempt under way, stays failed (from revision 5).
   */
  onlyIfWaiting?: boolean;
}

/** What a `deliverEvent` run does before it delivers. */
export type DeliverEventMode =
  /** A newly ingested event: record it, match subscriptions, deliver. */
  | { kind: 'ingest' }
  /** Pick up the deliveries this workflow id already opened (after continue-as-new or a retry of a closed run). */
  | { kind: 'resume' }
  /** Deliver a stored event again, as new messages, to what matches now or to one subscription. */
  | {
      kind: 'replay';
      subscriptionId?: string;
      /** The event is a `herald.digest`, replayed to its own subscription as the digest it is. */
      digest?: boolean;
    }
  /** `herald.ping` to one subscription: a single attempt, also when the subscription is disabled. */
  | { kind: 'ping'; subscriptionId: string }
  /** A `herald.digest` event of the subscription's digest workflow: record it, deliver it to that subscription. */
  | { kind: 'digest'; subscriptionId: string };

/** A cancel or retry request as a run keeps it, with who asked and when. */
export type ControlRecord = ControlAction & Pick<ControlRequest, 'subscriptionId' | 'onlyIfWaiting'>;

/**
 * The revision of `deliverEvent`'s code paths that runs started from now on take. A run's
 * input is in its history, so every replay takes the paths its first run took, as `patched()`
 * would decide them, but without its cost: each patch marker of a new run is also an upsert of
 * the `TemporalChangeVersion` search attribute, a visibility write per patch per event.
 * Runs started before revisions existed (no `revision`) decide by their patch markers.
 *   1: local attempts, a workflow cancel closes the deliveries, the event opened in one step.
 *   2: the first attempts to fast receivers in one local activity, which also records the
 *      event's status when they end it; requests that came before the deliveries apply first.
 *   3: an ingested event's deliveries to fast receivers are stored by their first attempts,
 *      once, with its outcome (`OpenEventInput.deferOpening`). The commands are those of
 *      revision 2; the activities' inputs differ.
 *   4: a retry request reaches a delivery waiting for its next attempt also before its loop
 *      starts (carried into a new run, or sent with a resume's start), and one that came
 *      during the attempt that failed the delivery reopens it; a retry that woke a delivery as
 *      its run handed over is carried to the next run. A run resuming a `herald.ping` after a
 *      retry makes its one attempt as a ping (also to a disabled subscription).
 *   5: Herald's own wake-up (`ControlRequest.onlyIfWaiting`) never reopens a failed delivery:
 *      in revision 4 the attempt that got a 410 woke its own delivery by disabling the
 *      subscription, which then reopened and failed a second time as `subscription_disabled`.
 *   6: an ingested event's opening makes the first attempts of the deliveries it deferred in the
 *      same local activity (`openEventWithFirstAttempts`), unless a request or a cancel of the
 *      workflow came before it: one local activity fewer per event. A cancel or retry request that
 *      arrives during it applies to the outcome of those attempts, not before them.
 */
export const DELIVER_EVENT_REVISION = 6;

export interface DeliverEventInput {
  tenant: string;
  event: HeraldEvent;
  /**
   * The tenant's subscriptions version the API read after the event's request arrived: a worker
   * whose subscriptions are at least that new matches the event without reading the version.
   * Absent on events Herald announces itself, replays and pings, whose worker reads it.
   */
  subscriptionsVersion?: number;
  /** DELIVER_EVENT_REVISION when the run was started; absent on runs started before revisions. */
  revision?: number;
  mode?: DeliverEventMode;
  /** Cancel and retry requests a previous run received but did not act on before continuing as new. */
  carried?: ControlRecord[];
  /** History events after which a run hands its open deliveries to a new run (default 10,000). */
  historyLimit?: number;
  /** The batch (`startEvents`) that started this run: its history holds the event too, so a purge deletes it. */
  batch?: BatchRun;
}

/** Same shape as `GET /v1/events/{id}`, from the workflow's own state. */
export const statusQuery = defineQuery<EventView>('status');
export const cancelSignal = defineSignal<[ControlRequest?]>('cancel');
export const retrySignal = defineSignal<[ControlRequest?]>('retry');

/** One run of a batch accepted with `Prefer: respond-async` (`startEvents`). */
export interface BatchRun {
  workflowId: string;
  runId: string;
}

/** A batch accepted with `Prefer: respond-async`, whose events' workflows are started after the answer. */
export interface StartEventsInput {
  tenant: string;
  events: HeraldEvent[];
  /** As `DeliverEventInput.subscriptionsVersion`: read after the batch's request arrived. */
  subscriptionsVersion?: number;
}

export interface RecoverDeliveriesInput {
  tenant: string;
  subscriptionId: string;
  since: string;
  until: string;
  requestedBy: string;
  /** Where the previous run stopped: `[createdAt, deliveryId]` of the last delivery it handed on. */
  after?: [string, string];
  recovered?: number;
}

/** One event for a subscription's digest, with the subscription's digest settings as they are now. */
export interface DigestEntry {
  eventId: string;
  /** The run that fed it: a retry of that run's feed is the same entry, a replay of the event another. */
  workflowId?: string;
  every: string;
  maxEvents?: number;
}

/** The events a digest workflow holds: carried whole into its next run by continue-as-new. */
export interface CollectDigestInput {
  tenant: string;
  subscriptionId: string;
  /** Settings of the newest entry; a change of the subscription's digest applies from the next window. */
  every?: string;
  maxEvents?: number;
  /** Event ids of the open window, oldest first. */
  pending?: string[];
  /** The entry each of them came in as (`sent`'s keys), by event id. */
  pendingKeys?: Record<string, string>;
  /** When the open window closes (ISO time); absent while no window is open. */
  closesAt?: string;
  /** When the open window opened. */
  openedAt?: string;
  /**
   * The entries sent last (`<workflow id> <event id>`, the newest SENT_REMEMBERED; before the
   * `digest-feeds-by-run` patch the event ids of the last digest), so an entry signalled again
   * by a retried activity is not sent twice.
   */
  sent?: string[];
  /** Digests sent by this workflow id so far: numbers the digest events. */
  sequence?: number;
  /** History events after which a run continues as new (default 10,000). */
  historyLimit?: number;
}

/** What `digest` answers: the open window, for operators and tests. */
export interface DigestState {
  pending: number;
  openedAt: string | null;
  closesAt: string | null;
  sequence: number;
}

export const digestSignal = defineSignal<[DigestEntry]>('digest');
export const digestQuery = defineQuery<DigestState>('digest');
