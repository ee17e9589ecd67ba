import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { LRUCache } from 'lru-cache';
import type { Agent } from 'undici';
import { mapConcurrent } from '../concurrency';
import { newMessageId } from '../domain/ids';
import { matchesAny } from '../domain/matching';
import { DIGEST_EVENT_TYPE, type DigestData } from '../domain/digest';
import { digestEmail, digestPayload, eventEmail, webhookPayload } from '../domain/messages';
import { classifyAttempt, classifySmtpReply, type AttemptOutcome } from '../domain/outcome';
import { nextDelayMs, retryPolicyOf } from '../domain/schedule';
import type { HeraldEvent } from '../domain/schemas';
import { signatureHeader } from '../domain/signing';
import { currentDeliveries, eventStatusOf, isFinal, type EventStatus } from '../domain/status';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../metrics';
import { findByIds, type AttemptDoc, type DeliveryDoc, type Store, type SubscriptionDoc } from '../store';
import {
  claimDelivery,
  closeDelivery,
  createDeliveries,
  deliveriesForEvent,
  deliveriesOfRun,
  deliveryKey,
  failedDeliveries,
  recordAttempt,
  releaseDelivery,
  reopenDelivery,
  workflowsWaitingOn,
  type DeliveryProgress,
} from '../store/deliveries';
import {
  deleteExpiredEvents,
  eventDocOf,
  eventKey,
  eventOf,
  findEvent,
  findEventsByIds,
  isMarkedForPurge,
  isPurging,
  recordEvent,
  setEventStatus,
  setStatusOfRun,
} from '../store/events';
import { deleteExpiredIngestLog } from '../store/ingest-log';
import {
  activeSubscriptions,
  clearFailing,
  disableSubscription,
  findSubscription,
  markFailing,
  signingSecrets,
  subscriptionsVersion,
} from '../store/subscriptions';
import { sendRetry } from '../temporal/deliver-event-client';
import { emitEvent, subscriptionChangeEvent } from '../temporal/herald-events';
import { digestSignal, retrySignal, type CollectDigestInput, type DigestEntry, type RecoverDeliveriesInput } from '../workflows/definitions';
import type { collectDigest } from '../workflows/collect-digest';
import { COLLECT_DIGEST_WORKFLOW, digestWorkflowId } from '../temporal/names';
import { HeraldTenant } from '../temporal/search-attributes';
import { activeTraceId } from '../tracing';
import { VERSION } from '../version';
import type { SecretBox } from '../security/secret-box';
import { isSensitiveHeader, openHeaders, REDACTED } from '../security/sensitive';
import { postWebhook, RESPONSE_BODY_LIMIT } from './http-sender';
import type { Mailer } from './smtp-sender';
import type { createThrottle } from './throttle';

type Throttle = ReturnType<typeof createThrottle>;
import type {
  AttemptInput,
  AttemptResult,
  ControlInput,
  DeliveryState,
  MatchInput,
  OpenEventInput,
  RecordEventInput,
} from './types';
import { deliveryView } from '../api/views';

export interface ActivityDeps {
  store: Store;
  dispatcher: Agent;
  /** The email channel's SMTP transport; absent when `HERALD_SMTP_URL` is not set. */
  mailer?: Mailer;
  allowPrivateTargets: boolean;
  /** Failing without one success this long disables a subscription (`HERALD_DISABLE_AFTER`). */
  disableAfterMs: number;
  /** Opens the subscriptions' sealed secrets and headers. */
  secretBox: SecretBox;
  /** For Herald's own events and for waking deliveries of a disabled subscription. */
  temporal: Client;
  taskQueue: string;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Per-subscription concurrency and rate limits (src/activities/throttle.ts). */
  throttle: Throttle;
}

/** One batch of a recover: the workflow's input without its running total, and a page size. */
export type RecoverBatchInput = Omit<RecoverDeliveriesInput, 'recovered'> & { limit: number };

const HEARTBEAT_EVERY_MS = 1000;
/** Deliveries of a just-disabled subscription that are woken to fail now rather than at their next attempt. */
const WAKE_ON_DISABLE_LIMIT = 1000;
const SIGNAL_CONCURRENCY = 16;
const DEFAULT_TIMEOUT_MS = 15_000;

/** What one attempt sends, as the attempt audit describes it, and how to send it. */
interface PreparedAttempt {
  request: AttemptDoc['request'];
  send(): Promise<SentAttempt>;
}

interface SentAttempt {
  outcome: AttemptOutcome;
  /** The HTTP status or SMTP reply code; null when none came. */
  status: number | null;
  response: AttemptDoc['response'];
}

/** A delivery's event and, for a digest, the events it collected (in the order they arrived). */
interface MessageContent {
  event: HeraldEvent;
  collected: HeraldEvent[] | null;
}

function resultOf(doc: DeliveryDoc, now: number): AttemptResult {
  const retryDelayMs = isFinal(doc.status) ? null : Math.max(0, (doc.nextAttemptAt?.getTime() ?? now) - now);
  return { view: deliveryView(doc), retryDelayMs };
}

function stateOf(doc: DeliveryDoc, timeoutMs: number): DeliveryState {
  return { deliveryId: doc._id, timeoutMs, scheduleBase: doc.scheduleBase ?? 0, view: deliveryView(doc) };
}

/**
 * All of Herald's I/O that workflows ask for. Each activity is idempotent: a retry after a
 * crash finds what the first try wrote instead of writing it again.
 */
export function createActivities(deps: ActivityDeps) {
  const { store, metrics } = deps;
  // Events are immutable once recorded, so every attempt after the first reads them from memory.
  const events = new LRUCache<string, HeraldEvent>({ max: 10_000 });

  // Each tenant's active subscriptions, kept while the tenant's subscriptions version holds:
  // matching an event then costs one read by _id instead of reading every subscription.
  const tenantSubscriptions = new LRUCache<string, { version: number; subs: SubscriptionDoc[] }>({
    maxSize: 100_000, // subscriptions held in all, whatever the number of tenants
    sizeCalculation: (entry) => entry.subs.length + 1,
  });

  async function matchable(tenant: string): Promise<SubscriptionDoc[]> {
    const version = await subscriptionsVersion(store, tenant); // first: see subscriptionsVersion
    const cached = tenantSubscriptions.get(tenant);
    if (cached?.version === version) return cached.subs;
    const subs = await activeSubscriptions(store, tenant);
    tenantSubscriptions.set(tenant, { version, subs });
    return subs;
  }

  async function loadEvent(tenant: string, id: string): Promise<HeraldEvent> {
    const key = eventKey(tenant, id);
    const cached = events.get(key);
    if (cached) return cached;
    const doc = await findEvent(store, tenant, id);
    if (!doc) throw ApplicationFailure.nonRetryable(`event ${key} is not in the audit`, 'EventMissing');
    const event = eventOf(doc);
    events.set(key, event);
    return event;
  }

  /**
   * Disables a subscription, announces it with `herald.subscription.disabled`, and wakes its
   * waiting deliveries so they fail now instead of at their next scheduled attempt.
   */
  async function disable(sub: SubscriptionDoc, reason: string, now: Date): Promise<void> {
    const disabled = await disableSubscription(store, sub._id, reason, now);
    if (!disabled) return;
    await emitEvent(deps.temporal, deps.taskQueue, disabled.tenant, subscriptionChangeEvent('disabled', disabled, 'herald', disabled.disabledAt!));
    deps.logger.warn({ subscriptionId: sub._id, reason }, 'subscription disabled');
    const waiting = await workflowsWaitingOn(store, sub._id, WAKE_ON_DISABLE_LIMIT);
    await mapConcurrent(waiting, SIGNAL_CONCURRENCY, (workflowId) =>
      deps.temporal.workflow
        .getHandle(workflowId)
        .signal(retrySignal, { subscriptionId: sub._id, requestedBy: 'herald' })
        .catch(() => undefined), // closed meanwhile: nothing waits there
    );
  }

  /** Keeps the subscription's failing streak, and disables it after 410 or a long enough streak. */
  async function trackHealth(sub: SubscriptionDoc, succeeded: boolean, gone: boolean, at: Date): Promise<boolean> {
    if (!sub.active) return false; // a ping to a disabled subscription changes nothing
    if (succeeded) {
      if (sub.failingSince) await clearFailing(store, sub._id);
      return false;
    }
    if (gone) {
      await disable(sub, 'endpoint answered 410 Gone', at);
      return true;
    }
    const since = sub.failingSince ?? at;
    if (!sub.failingSince) await markFailing(store, sub._id, at);
    if (at.getTime() - since.getTime() < deps.disableAfterMs) return false;
    await disable(sub, `failing without a success since ${since.toISOString()}`, at);
    return true;
  }

  /** The subscriptions an event goes to: a delivery of its own, or through their digest. */
  async function subscriptionsFor(input: MatchInput): Promise<{ deliver: SubscriptionDoc[]; digests: SubscriptionDoc[] }> {
    if (input.only) {
      const sub = await findSubscription(store, input.tenant, input.only);
      return { deliver: sub ? [sub] : [], digests: [] };
    }
    const matching = (await matchable(input.tenant)).filter((s) => matchesAny(s.eventTypes, input.eventType));
    return {
      deliver: matching.filter((s) => !s.digest),
      // A digest is not collected into digests itself.
      digests: input.eventType === DIGEST_EVENT_TYPE ? [] : matching.filter((s) => s.digest),
    };
  }

  async function feedDigests(input: MatchInput, digests: SubscriptionDoc[]): Promise<void> {
    await mapConcurrent(digests, SIGNAL_CONCURRENCY, (s) => addToDigest(input.tenant, s, input.eventId));
  }

  /** One pending delivery per subscription, each with a message id of its own. */
  async function openDeliveries(input: MatchInput, subs: SubscriptionDoc[]): Promise<DeliveryState[]> {
    const { tenant, eventId, workflowId } = input;
    const sorted = [...subs].sort((a, b) => a._id.localeCompare(b._id));
    const now = new Date();
    // A retried call keeps the first call's deliveries (and message ids).
    const docs = await createDeliveries(
      store,
      sorted.map((s) => ({
        _id: deliveryKey(workflowId, s._id),
        tenant,
        eventId,
        workflowId,
        subscriptionId: s._id,
        channel: s.channel,
        messageId: newMessageId(),
        status: 'pending',
        attempts: 0,
        lastAttemptAt: null,
        lastResponseStatus: null,
        nextAttemptAt: null,
        error: null,
        scheduleBase: 0,
        ...(input.digest && { digest: true }),
        createdAt: now,
        updatedAt: now,
      })),
    );
    // A purge marks the event, stops the run and deletes the event's deliveries, but this
    // activity may still be running in the worker after the stop. Read after the insert: either
    // the mark (or the event's absence, once the purge is done) is seen here, or the mark was
    // written after the insert and the purge's delete removes these deliveries.
    if (docs.length > 0 && (await isPurging(store, tenant, eventId))) {
      await store.deliveries.deleteMany({ tenant, eventId }); // what a finished purge would leave behind
      throw ApplicationFailure.nonRetryable(`event ${eventId} is being purged`, 'EventPurged');
    }
    const timeouts = new Map(sorted.map((s) => [s._id, s.timeoutMs]));
    return docs.map((d) => stateOf(d, timeouts.get(d.subscriptionId) ?? DEFAULT_TIMEOUT_MS));
  }

  return {
    /** Writes the event into the audit; `duplicate` when another run already did. */
    async recordEvent(input: RecordEventInput): Promise<'recorded' | 'duplicate'> {
      const { tenant, event, workflowId, runId } = input;
      return recordEvent(store, eventDocOf(tenant, event, workflowId, runId, 'delivering'));
    },

    /**
     * Finds the active subscriptions that want this event (or the one subscription asked
     * for) and opens one delivery for each, with a message id of its own.
     */
    async matchSubscriptions(input: MatchInput): Promise<DeliveryState[]> {
      const subs = await subscriptionsFor(input);
      await feedDigests(input, subs.digests);
      return openDeliveries(input, subs.deliver);
    },

    /**
     * `recordEvent` and `matchSubscriptions` in one step, so a run starts with one local
     * activity instead of two. An event that matched nothing is recorded as delivered: its
     * run then has nothing left to write. `duplicate` when another run recorded the event.
     */
    async openEvent(input: OpenEventInput): Promise<DeliveryState[] | 'duplicate'> {
      const { tenant, event, workflowId, runId } = input;
      const match: MatchInput = { tenant, eventId: event.id, eventType: event.type, workflowId, ...(input.only && { only: input.only }), ...(input.digest && { digest: true }) };
      const subs = await subscriptionsFor(match);
      // Recorded before the digests hear of it: a digest reads the events it collected from the audit.
      const recorded = await recordEvent(store, eventDocOf(tenant, event, workflowId, runId, subs.deliver.length ? 'delivering' : 'delivered'));
      if (recorded === 'duplicate') return 'duplicate';
      await feedDigests(match, subs.digests);
      return openDeliveries(match, subs.deliver);
    },

    /** The deliveries a workflow id opened, for a run that continues its work. */
    async loadDeliveries(input: { workflowId: string }): Promise<DeliveryState[]> {
      const docs = await deliveriesOfRun(store, input.workflowId);
      const subs = await findByIds(store.subscriptions, docs.map((d) => d.subscriptionId));
      const timeouts = new Map(subs.map((s) => [s._id, s.timeoutMs]));
      return docs.map((d) => stateOf(d, timeouts.get(d.subscriptionId) ?? DEFAULT_TIMEOUT_MS));
    },

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

    /** Closes a delivery as cancelled, recording who asked. */
    async cancelDelivery(input: ControlInput): Promise<AttemptResult> {
      const doc = await closeDelivery(store, input.deliveryId, 'cancelled', `cancelled by ${input.action.by}`, input.action);
      if (!doc) throw ApplicationFailure.nonRetryable(`delivery ${input.deliveryId} is not in the audit`, 'DeliveryMissing');
      return resultOf(doc, Date.now());
    },

    /** Gives a failed delivery a fresh run of its schedule, recording who asked. */
    async reopenDelivery(input: ControlInput & { attempts: number }): Promise<void> {
      await reopenDelivery(store, input.deliveryId, input.attempts, input.action);
    },

    /**
     * Stores the event's status so lists can filter on it: this run's, or, once the event
     * was replayed, the one its runs give together (the newest delivery per subscription).
     */
    async finishEvent(input: { tenant: string; eventId: string; status: EventStatus }): Promise<void> {
      if (!(await setStatusOfRun(store, input.tenant, input.eventId, input.status)).replayed) return;
      const deliveries = await deliveriesForEvent(store, input.tenant, input.eventId);
      await setEventStatus(store, input.tenant, input.eventId, eventStatusOf(currentDeliveries(deliveries)));
    },

    /** One batch of the ingestion log's retention: refused requests older than `before`. */
    async deleteExpiredIngestLog(input: { before: string; limit: number }): Promise<number> {
      return deleteExpiredIngestLog(store, new Date(input.before), input.limit);
    },

    /** One batch of retention: events older than `before` with their audit (src/store/events.ts). */
    async deleteExpiredEvents(input: { before: string; limit: number }): Promise<number> {
      return deleteExpiredEvents(store, new Date(input.before), input.limit);
    },

    /**
     * One bounded batch of a recover: sends `retry` for each failed delivery of the page,
     * starting a new run where the event's workflow has closed. Answers where to go on from.
     */
    async recoverBatch(input: RecoverBatchInput): Promise<{ count: number; after: [string, string] | null }> {
      const ctx = Context.current();
      const docs = await failedDeliveries(store, {
        tenant: input.tenant,
        subscriptionId: input.subscriptionId,
        since: new Date(input.since),
        until: new Date(input.until),
        ...(input.after && { after: [new Date(input.after[0]), input.after[1]] as [Date, string] }),
        limit: input.limit,
      });
      const eventIds = [...new Set(docs.map((d) => d.eventId))];
      const stored = new Map((await findEventsByIds(store, input.tenant, eventIds)).map((e) => [e.id, eventOf(e)]));
      await mapConcurrent(docs, SIGNAL_CONCURRENCY, async (doc) => {
        const event = stored.get(doc.eventId);
        if (!event) return; // purged meanwhile
        await sendRetry(deps.temporal, deps.taskQueue, doc.workflowId, { tenant: input.tenant, event, mode: { kind: 'resume' } }, {
          subscriptionId: input.subscriptionId,
          requestedBy: input.requestedBy,
        });
        ctx.heartbeat();
      });
      const last = docs[docs.length - 1];
      return { count: docs.length, after: docs.length < input.limit || !last ? null : [last.createdAt.toISOString(), last._id] };
    },
  };

  /**
   * Feeds one event to the subscription's digest workflow, starting it when none runs. A
   * retried call signals again; the workflow holds each event id once.
   */
  async function addToDigest(tenant: string, sub: SubscriptionDoc, eventId: string): Promise<void> {
    const entry: DigestEntry = { eventId, every: sub.digest!.every, ...(sub.digest!.maxEvents && { maxEvents: sub.digest!.maxEvents }) };
    await deps.temporal.workflow.signalWithStart<typeof collectDigest, [DigestEntry]>(COLLECT_DIGEST_WORKFLOW, {
      workflowId: digestWorkflowId(tenant, sub._id),
      taskQueue: deps.taskQueue,
      args: [{ tenant, subscriptionId: sub._id } satisfies CollectDigestInput],
      signal: digestSignal,
      signalArgs: [entry],
      typedSearchAttributes: [{ key: HeraldTenant, value: tenant }],
    });
  }

  async function messageContent(delivery: DeliveryDoc): Promise<MessageContent> {
    const event = await loadEvent(delivery.tenant, delivery.eventId);
    if (!delivery.digest) return { event, collected: null };
    const ids = (event.data as unknown as DigestData).eventIds;
    const stored = new Map((await findEventsByIds(store, delivery.tenant, ids)).map((doc) => [doc.id, eventOf(doc)]));
    // An event removed by retention since it was collected is left out rather than failing the digest.
    return { event, collected: ids.flatMap((id) => stored.get(id) ?? []) };
  }

  function prepareWebhook(delivery: DeliveryDoc, sub: SubscriptionDoc, content: MessageContent, startedAt: Date, signal: AbortSignal): PreparedAttempt {
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const body = JSON.stringify(content.collected ? digestPayload(content.collected) : webhookPayload(content.event));
    const headers: Record<string, string> = {
      ...openHeaders(sub.headers ?? {}, deps.secretBox),
      'content-type': 'application/json',
      'user-agent': `Herald/${VERSION}`,
      'webhook-id': delivery.messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signingSecrets(sub, startedAt, deps.secretBox), delivery.messageId, timestamp, body),
    };
    return {
      request: { url: sub.url!, headers: auditHeaders(headers) },
      async send() {
        const response = await postWebhook(deps.dispatcher, deps.allowPrivateTargets, { url: sub.url!, headers, body, timeoutMs: sub.timeoutMs, signal });
        return {
          outcome: classifyAttempt(response.result, Date.now()),
          status: response.status,
          response: response.status === null ? null : { status: response.status, body: response.body ?? '' },
        };
      },
    };
  }

  function prepareEmail(delivery: DeliveryDoc, sub: SubscriptionDoc, content: MessageContent): PreparedAttempt {
    const { mailer } = deps;
    const templates = { subject: sub.subject, body: sub.body, html: sub.html };
    const rendered = content.collected
      ? digestEmail(templates, content.collected, (content.event.data as unknown as DigestData).window)
      : eventEmail(templates, content.event);
    // Derived from the delivery's message id: every attempt of a delivery carries the same one.
    const messageId = `${delivery.messageId}@${mailer?.domain ?? 'herald.invalid'}`;
    const to = sub.to!;
    return {
      request: { url: mailer?.endpoint ?? 'smtp:', headers: { to: to.join(', '), subject: rendered.subject, 'message-id': `<${messageId}>` } },
      async send() {
        if (!mailer) return { outcome: { kind: 'retryable', reason: 'HERALD_SMTP_URL is not set in the worker' }, status: null, response: null };
        const reply = await mailer.send({
          ...rendered,
          to,
          messageId,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Herald-Event-Id': content.event.id, 'X-Herald-Event-Type': content.event.type },
        });
        const text = reply.rejected.length ? `${reply.message} (rejected: ${reply.rejected.join(', ')})` : reply.message;
        return {
          outcome: classifySmtpReply(reply),
          status: reply.code,
          response: reply.code === null ? null : { status: reply.code, body: text.slice(0, RESPONSE_BODY_LIMIT) },
        };
      },
    };
  }

  /**
   * Claims the delivery (see `claimDelivery`) and makes the attempt. Every end of the attempt
   * clears the claim: recording it does, and so does any throw, so that a purge waits only for
   * attempts that may still send.
   */
  async function attemptOnce(input: AttemptInput, ctx: Context): Promise<AttemptResult> {
    const delivery = await claimDelivery(store, input.deliveryId);
    if (!delivery) throw ApplicationFailure.nonRetryable(`delivery ${input.deliveryId} is not in the audit`, 'DeliveryMissing');
    try {
      return await attemptClaimed(delivery, input, ctx);
    } catch (err) {
      await releaseDelivery(store, delivery._id).catch(() => undefined); // the claim then ages out
      throw err;
    }
  }

  async function attemptClaimed(delivery: DeliveryDoc, input: AttemptInput, ctx: Context): Promise<AttemptResult> {
    // After the claim: a purge that marked the event before it is seen here; one that marks it
    // later sees the claim and waits for this attempt to record its outcome.
    if (await isMarkedForPurge(store, delivery.tenant, delivery.eventId)) {
      throw ApplicationFailure.nonRetryable(`delivery ${input.deliveryId} is being purged`, 'DeliveryMissing');
    }
    // Made already: this is a retry of an activity whose first try recorded it before it was lost.
    if (isFinal(delivery.status) || delivery.attempts >= input.attempt) {
      await releaseDelivery(store, delivery._id);
      return resultOf(delivery, Date.now());
    }

    const sub = await findSubscription(store, delivery.tenant, delivery.subscriptionId);
    if (!sub || !(sub.channel === 'email' ? sub.to : sub.url) || (!sub.active && !input.ping)) {
      const reason = sub ? 'subscription_disabled' : 'subscription_deleted';
      const closed = await closeDelivery(store, delivery._id, 'failed', reason, input.trigger);
      metrics.deliveries.inc({ channel: delivery.channel, outcome: 'failed' });
      return resultOf(closed ?? delivery, Date.now());
    }

    const content = await messageContent(delivery);
    const attempt = input.attempt;
    const startedAt = new Date();
    const traceId = activeTraceId();
    const prepared =
      sub.channel === 'email'
        ? prepareEmail(delivery, sub, content)
        : prepareWebhook(delivery, sub, content, startedAt, ctx.cancellationSignal);
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
      await releaseDelivery(store, delivery._id);
      return { view: deliveryView(delivery), retryDelayMs: admission.retryInMs };
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
      await recordAttempt(store, attemptDoc(Date.now() - startedAt.getTime(), null, aborted), {
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
    const disabled = await trackHealth(sub, succeeded, gone, startedAt);

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
    await recordAttempt(store, attemptDoc(durationMs, sent.response, error), progress, input.trigger);
    metrics.attemptDuration.observe({ channel: sub.channel, outcome: outcome.kind }, durationMs / 1000);
    if (progress.status !== 'retrying') metrics.deliveries.inc({ channel: sub.channel, outcome: progress.status });

    const actions = [...(delivery.actions ?? []), ...(input.trigger ? [input.trigger] : [])];
    return {
      view: deliveryView({ ...delivery, ...progress, attempts: attempt, actions }),
      retryDelayMs,
    };
  }
}

/** Custom header values that look like credentials are kept out of the attempt audit; signatures are shown. */
function auditHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, name.startsWith('webhook-') || !isSensitiveHeader(name) ? value : REDACTED]),
  );
}
