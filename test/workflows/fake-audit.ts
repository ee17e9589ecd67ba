import { CancelledFailure, Context } from '@temporalio/activity';
import type {
  AttemptInput,
  AttemptResult,
  ControlInput,
  DeliveryState,
  FirstAttemptsInput,
  FirstAttemptsResult,
  MatchInput,
  OpenedEvent,
  OpenEventInput,
  RecordEventInput,
} from '../../src/activities/types';
import { deferredFirstAttempt } from '../../src/activities/delivery-state';
import type { HeraldEvent } from '../../src/domain/schemas';
import { eventStatusOf, type EventStatus } from '../../src/domain/status';

/** The opening claim the fake's deliveries carry: any time will do, the fake attempts check nothing. */
export const OPENING_CLAIM_UNTIL = 1_700_000_000_000;
export const MATCHED_AT_VERSION = 7;

/**
 * The activities `deliverEvent` calls, kept in memory: what a workflow test needs to steer a
 * run (each attempt's outcome, its timing) and to see what the workflow asked for, with no
 * store and no HTTP behind them. One instance per worker; each test uses its own event ids.
 */

/** What an attempt does: answer at once, or only when `release` is called or it is cancelled, or fail as an activity. */
export type Outcome =
  | { ok: true }
  | { ok: false; retryDelayMs: number | null; error?: string }
  | { hold: Promise<Outcome> }
  | { throws: string }
  /** Not admitted by the subscription's rate limit: nothing sent or recorded, ask again after the wait. */
  | { throttledForMs: number };

export interface Subscription {
  id: string;
  timeoutMs: number;
}

export interface Plan {
  subscriptions: Subscription[];
  /** The outcome of each attempt, by subscription and 1-based attempt number (default: success). */
  attempt?: (subscriptionId: string, attempt: number) => Outcome;
  /** Matching answers only once this settles. */
  matching?: Promise<unknown>;
  /** The opening fails this many times (the store is down) before it records the event. */
  openingFails?: number;
}

export interface Seen {
  /** Matching was asked for. */
  matchStarted: boolean;
  /** Tries of the event's opening, failed ones included. */
  openings: number;
  /** The activity that opens the event with its first attempts was asked to cancel. */
  openingCancelRequested: boolean;
  /** The status the event was recorded with. */
  recorded: EventStatus[];
  attempts: AttemptInput[];
  /** Attempts whose activity was cancelled while in flight. */
  cancelledInFlight: string[];
  reopened: (ControlInput & { attempts: number })[];
  cancelled: ControlInput[];
  finished: EventStatus[];
}

interface Entry {
  plan: Plan;
  seen: Seen;
  /** deliveryId → the delivery as the audit holds it. */
  deliveries: Map<string, DeliveryState>;
}

export function gate(): { promise: Promise<Outcome>; release: (o: Outcome) => void } {
  let release!: (o: Outcome) => void;
  const promise = new Promise<Outcome>((r) => (release = r));
  return { promise, release };
}

export class FakeAudit {
  private readonly events = new Map<string, Entry>();

  /** Sets what the event's activities answer; returns what they will have seen. */
  plan(eventId: string, plan: Plan): Seen {
    const seen: Seen = {
      matchStarted: false,
      openings: 0,
      openingCancelRequested: false,
      recorded: [],
      attempts: [],
      cancelledInFlight: [],
      reopened: [],
      cancelled: [],
      finished: [],
    };
    this.events.set(eventId, { plan, seen, deliveries: new Map() });
    return seen;
  }

  deliveryOf(eventId: string, subscriptionId: string): DeliveryState {
    return this.entry(eventId).deliveries.get(deliveryIdOf(eventId, subscriptionId))!;
  }

  private entry(eventId: string): Entry {
    const entry = this.events.get(eventId);
    if (!entry) throw new Error(`no plan for event ${eventId}`);
    return entry;
  }

  private byDelivery(deliveryId: string): [Entry, DeliveryState] {
    const entry = this.entry(deliveryId.split('~')[0]);
    return [entry, entry.deliveries.get(deliveryId)!];
  }

  activities() {
    const result = (state: DeliveryState, retryDelayMs: number | null): AttemptResult => ({ view: { ...state.view }, retryDelayMs });
    const match = async (input: MatchInput): Promise<DeliveryState[]> => {
      const entry = this.entry(input.eventId);
      entry.seen.matchStarted = true;
      await entry.plan.matching;
      return entry.plan.subscriptions.map((sub) => {
        const state: DeliveryState = {
          deliveryId: deliveryIdOf(input.eventId, sub.id),
          timeoutMs: sub.timeoutMs,
          scheduleBase: 0,
          view: pendingView(sub.id, input.workflowId),
        };
        entry.deliveries.set(state.deliveryId, state);
        return structuredClone(state);
      });
    };
    const attempt = async (input: AttemptInput): Promise<AttemptResult> => {
      const [entry, state] = this.byDelivery(input.deliveryId);
      entry.seen.attempts.push(input);
      let outcome = entry.plan.attempt?.(state.view.subscriptionId, input.attempt) ?? { ok: true };
      if ('hold' in outcome) {
        const ctx = Context.current();
        const heartbeat = ctx.info.isLocal ? undefined : setInterval(() => ctx.heartbeat(), 200);
        try {
          outcome = await Promise.race([outcome.hold, ctx.cancelled]);
        } catch (err) {
          entry.seen.cancelledInFlight.push(input.deliveryId);
          throw err;
        } finally {
          clearInterval(heartbeat);
        }
      }
      if ('throws' in outcome) throw new Error(outcome.throws);
      if ('throttledForMs' in outcome) return result(state, outcome.throttledForMs);
      const at = new Date().toISOString();
      const delay = 'ok' in outcome && !outcome.ok ? outcome.retryDelayMs : null;
      const status = 'ok' in outcome && outcome.ok ? 'succeeded' : delay === null ? 'failed' : 'retrying';
      state.view = {
        ...state.view,
        status,
        attempts: input.attempt,
        lastAttemptAt: at,
        lastResponseStatus: status === 'succeeded' ? 200 : 500,
        nextAttemptAt: delay === null ? null : new Date(Date.now() + delay).toISOString(),
        error: status === 'succeeded' ? null : ('error' in outcome && outcome.error) || 'HTTP 500',
        actions: input.trigger ? [...state.view.actions, input.trigger] : state.view.actions,
      };
      return result(state, delay);
    };
    const openEvent = async (input: OpenEventInput): Promise<DeliveryState[]> => {
      const entry = this.entry(input.event.id);
      if (entry.seen.openings++ < (entry.plan.openingFails ?? 0)) throw new Error('the store is down');
      const states = await match({
        tenant: input.tenant,
        eventId: input.event.id,
        eventType: input.event.type,
        workflowId: input.workflowId,
      });
      entry.seen.recorded.push(states.length ? 'delivering' : 'delivered');
      // As the real one: each delivery opened under a claim its first attempt may use, and the
      // fast ones of a first recording deferred to their first attempts.
      const defer = input.deferOpening;
      const fast = defer ? states.filter((s) => s.timeoutMs <= defer.timeoutMs) : [];
      const deferred = new Set(fast.length <= (defer?.deliveries ?? 0) ? fast : []);
      return states.map((s) => ({
        ...s,
        openingClaimUntil: OPENING_CLAIM_UNTIL,
        matchedAtVersion: MATCHED_AT_VERSION,
        ...(deferred.has(s) && { unopened: { at: Date.now() } }),
      }));
    };
    // As the real one: the attempts at once, one that fails as an activity left to an activity of its own.
    const attemptTogether = (attempts: AttemptInput[]): Promise<(AttemptResult | null)[]> =>
      Promise.all(attempts.map((a) => attempt(a).catch(() => null)));
    /** The event's status, recorded when the attempts made together end it. */
    const finish = (eventId: string, results: (AttemptResult | null)[]): FirstAttemptsResult => {
      if (!results.every((r) => r?.retryDelayMs === null)) return { results };
      const finished = eventStatusOf(results.map((r) => r!.view));
      this.entry(eventId).seen.finished.push(finished);
      return { results, finished };
    };
    // Each returns a promise, as the activity it stands in for does, even where there is nothing to wait for.
    return {
      // Runs before revision 1 (scripts/record-workflow-histories.ts records their shapes).
      recordEvent: (input: RecordEventInput): Promise<'recorded'> => {
        this.entry(input.event.id).seen.recorded.push('delivering');
        return Promise.resolve('recorded');
      },
      openEvent,
      openEventWithFirstAttempts: async (input: OpenEventInput): Promise<OpenedEvent> => {
        const ctx = Context.current();
        ctx.cancelled.catch(() => (this.entry(input.event.id).seen.openingCancelRequested = true));
        const deliveries = await openEvent(input);
        // As the real one: the deferred deliveries' first attempts, unless a cancel came first or this is a retry.
        const attempting = ctx.info.attempt === 1 && !ctx.cancellationDetails?.cancelRequested;
        const deferred = attempting ? deliveries.filter((d) => d.unopened) : [];
        const attempts = deferred.map((d) => deferredFirstAttempt(input.tenant, input.event.id, d));
        const results = await attemptTogether(attempts);
        const attempted = deferred.map((d) => d.deliveryId);
        const finishes = deferred.length > 0 && deferred.length === deliveries.length && !ctx.cancellationDetails?.cancelRequested;
        return { deliveries, attempted, firstAttempts: finishes ? finish(input.event.id, results) : { results } };
      },
      matchSubscriptions: (input: MatchInput): Promise<DeliveryState[]> => match(input),
      loadDeliveries: (input: { workflowId: string }): Promise<DeliveryState[]> => {
        const states = [...this.events.values()].flatMap((e) => [...e.deliveries.values()]);
        return Promise.resolve(structuredClone(states.filter((s) => s.view.workflowId === input.workflowId)));
      },
      attemptDelivery: (input: AttemptInput): Promise<AttemptResult> => attempt(input),
      // As the real one: the attempts at once, and the event's status when they end it.
      attemptFirstDeliveries: async (input: FirstAttemptsInput): Promise<FirstAttemptsResult> => {
        const results = await attemptTogether(input.attempts);
        if (Context.current().cancellationDetails?.cancelRequested) throw new CancelledFailure('deliveries cancelled');
        return input.finish ? finish(input.finish.eventId, results) : { results };
      },
      cancelDelivery: (input: ControlInput): Promise<AttemptResult> => {
        const [entry, state] = this.byDelivery(input.deliveryId);
        entry.seen.cancelled.push(input);
        state.view = {
          ...state.view,
          status: 'cancelled',
          nextAttemptAt: null,
          error: `cancelled by ${input.action.by}`,
          actions: [...state.view.actions, input.action],
        };
        return Promise.resolve(result(state, null));
      },
      reopenDelivery: (input: ControlInput & { attempts: number }): Promise<void> => {
        const [entry, state] = this.byDelivery(input.deliveryId);
        entry.seen.reopened.push(input);
        state.view = { ...state.view, status: 'pending', error: null, nextAttemptAt: null, actions: [...state.view.actions, input.action] };
        state.scheduleBase = input.attempts;
        return Promise.resolve();
      },
      finishEvent: (input: { eventId: string; status: EventStatus }): Promise<void> => {
        this.entry(input.eventId).seen.finished.push(input.status);
        return Promise.resolve();
      },
    };
  }
}

/** A delivery id that names its event, so an activity given only the delivery finds its plan. */
function deliveryIdOf(eventId: string, subscriptionId: string): string {
  return `${eventId}~${subscriptionId}`;
}

function pendingView(subscriptionId: string, workflowId: string): DeliveryState['view'] {
  return {
    subscriptionId,
    channel: 'webhook',
    status: 'pending',
    attempts: 0,
    lastAttemptAt: null,
    lastResponseStatus: null,
    nextAttemptAt: null,
    error: null,
    messageId: `msg_${subscriptionId}`,
    workflowId,
    actions: [],
  };
}

export function eventOf(id: string): HeraldEvent {
  const at = '2026-12-01T00:00:00.000Z';
  return { id, type: 'build.finished', data: { n: 1 }, occurredAt: at, receivedAt: at };
}
