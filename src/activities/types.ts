import type { ControlAction, DeliveryView, HeraldEvent } from '../domain/schemas';
import type { EventStatus } from '../domain/status';
import type { BatchRun } from '../workflows/definitions';

/** Inputs and results that cross the workflow/activity boundary: small, references not payloads. */

export interface RecordEventInput {
  tenant: string;
  event: HeraldEvent;
  workflowId: string;
  runId: string;
  /** The batch that started the run (`DeliverEventInput.batch`), kept with the event for a purge. */
  batch?: BatchRun;
}

export interface MatchInput {
  tenant: string;
  eventId: string;
  eventType: string;
  workflowId: string;
  /** Open a delivery to this subscription only, whatever its event types (replay to one, ping, digest). */
  only?: string;
  /** The event is a digest of the `only` subscription's digest workflow. */
  digest?: boolean;
  /** Subscriptions at least this new match it without a read of the version (`DeliverEventInput`). */
  subscriptionsVersion?: number;
}

/** Recording an event and opening its deliveries in one step (`only`, `digest`: as in MatchInput). */
export interface OpenEventInput extends RecordEventInput {
  only?: string;
  digest?: boolean;
  subscriptionsVersion?: number;
  /**
   * Deliveries to receivers allowed at most `timeoutMs` are not stored yet: their first attempt
   * writes each once, with its outcome, and the event carries their claim meanwhile. Only a
   * run's first recording of its event defers, and only up to `deliveries` of them (their first
   * attempts then go out in one activity, whose end releases the event's claim); a retried
   * recording opens them all as before.
   */
  deferOpening?: { timeoutMs: number; deliveries: number };
}

/** One delivery as a workflow tracks it. */
export interface DeliveryState {
  deliveryId: string;
  timeoutMs: number;
  /** Attempts made before the current run of the schedule. */
  scheduleBase: number;
  view: DeliveryView;
  /** Until when (epoch ms) the claim the delivery was opened with lasts; only from `openEvent`. */
  openingClaimUntil?: number;
  /** The version of the tenant's subscriptions the delivery was matched at; only from `openEvent`. */
  matchedAtVersion?: number;
  /** Not stored yet: its opening (at this time, epoch ms) was deferred to its first attempt (`OpenEventInput.deferOpening`). */
  unopened?: { at: number };
}

/** What the first attempt of a delivery just opened needs instead of claiming and reading it. */
export interface OpenedDelivery {
  tenant: string;
  eventId: string;
  digest?: boolean;
  view: DeliveryView;
  claimedUntil: number;
  /** The version of the tenant's subscriptions it was matched at: the attempt reads none while it holds. */
  matchedAtVersion?: number;
  /** Not stored yet (`DeliveryState.unopened`): the attempt writes it, and the claim is the event's. */
  unopened?: { at: number };
}

export interface AttemptInput {
  deliveryId: string;
  /** The attempt to make (1-based); a retried activity that finds it made already answers its result. */
  attempt: number;
  scheduleBase: number;
  /** A ping: one attempt, made also when the subscription is disabled. */
  ping?: boolean;
  /** The retry request that made this attempt happen now, for the audit. */
  trigger?: ControlAction;
  /** The first attempt of a delivery this run opened: the delivery as opened, under its opening claim. */
  opened?: OpenedDelivery;
}

export interface AttemptResult {
  view: DeliveryView;
  /** How long to wait before the next attempt; null when the delivery is final. */
  retryDelayMs: number | null;
}

/** The first attempts of deliveries an event's run just opened, made in one local activity. */
export interface FirstAttemptsInput {
  attempts: AttemptInput[];
  /** They are all of the event's deliveries: when every one ends final, the event's status is recorded too. */
  finish?: { tenant: string; eventId: string };
}

export interface FirstAttemptsResult {
  /** In the order asked; null for an attempt that failed here: its delivery makes it in an activity of its own. */
  results: (AttemptResult | null)[];
  /** The event's status, when it was recorded (`finish`). */
  finished?: EventStatus;
}

/**
 * An event's opening with the first attempts of the deliveries it deferred
 * (`OpenEventInput.deferOpening`), made in the same local activity.
 */
export interface OpenedEvent {
  deliveries: DeliveryState[];
  /** The deliveries attempted, in the order of `results`: none when a cancel came first, or on a retried try. */
  attempted: string[];
  firstAttempts: FirstAttemptsResult;
}

export interface ControlInput {
  deliveryId: string;
  action: ControlAction;
  /** The delivery as opened, when it may not be stored yet (`DeliveryState.unopened`). */
  opening?: OpenedDelivery;
}
