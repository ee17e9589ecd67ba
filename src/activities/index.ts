import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { LRUCache } from 'lru-cache';
import type { Agent } from 'undici';
import { newMessageId } from '../domain/ids';
import { matchesAny } from '../domain/matching';
import { classifyAttempt } from '../domain/outcome';
import { nextDelayMs, retryPolicyOf } from '../domain/schedule';
import type { HeraldEvent } from '../domain/schemas';
import { signatureHeader } from '../domain/signing';
import { isFinal, type EventStatus } from '../domain/status';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../metrics';
import type { AttemptDoc, DeliveryDoc, Store } from '../store';
import { closeDelivery, createDeliveries, deliveryKey, findDelivery, recordAttempt, type DeliveryProgress } from '../store/deliveries';
import { eventKey, eventOf, findEvent, recordEvent, setEventStatus } from '../store/events';
import { activeSubscriptions, findSubscription, signingSecrets } from '../store/subscriptions';
import { VERSION } from '../version';
import { postWebhook } from './http-sender';
import type { DeliverySummary, DeliveryTarget, MatchInput, RecordEventInput } from './types';

export interface ActivityDeps {
  store: Store;
  dispatcher: Agent;
  allowPrivateTargets: boolean;
  metrics: WorkerMetrics;
  logger: Logger;
}

/** Custom header values that look like credentials are kept out of the attempt audit. */
const SENSITIVE_HEADER = /authorization|cookie|token|secret|password|api[-_]?key/i;
const HEARTBEAT_EVERY_MS = 1000;

/** The webhook body of the contract (section 4). */
export function webhookPayload(event: HeraldEvent) {
  return {
    id: event.id,
    type: event.type,
    timestamp: event.occurredAt,
    data: event.data,
    ...(event.subject && { subject: event.subject }),
    ...(event.actor && { actor: event.actor }),
    ...(event.correlationId && { correlationId: event.correlationId }),
  };
}

function summaryOf(d: Pick<DeliveryDoc, 'status' | 'attempts' | 'lastAttemptAt' | 'lastResponseStatus' | 'error'>): DeliverySummary {
  return {
    status: d.status === 'succeeded' || d.status === 'cancelled' ? d.status : 'failed',
    attempts: d.attempts,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    lastResponseStatus: d.lastResponseStatus,
    error: d.error,
  };
}

/**
 * All of Herald's I/O that workflows ask for. Each activity is idempotent: a retry after a
 * crash finds what the first try wrote instead of writing it again.
 */
export function createActivities(deps: ActivityDeps) {
  const { store, metrics } = deps;
  // Events are immutable once recorded, so every attempt after the first reads them from memory.
  const events = new LRUCache<string, HeraldEvent>({ max: 10_000 });

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

  return {
    /** Writes the event into the audit; `duplicate` when another run already did. */
    async recordEvent(input: RecordEventInput): Promise<'recorded' | 'duplicate'> {
      const { tenant, event, workflowId, runId } = input;
      return recordEvent(store, {
        _id: eventKey(tenant, event.id),
        tenant,
        id: event.id,
        type: event.type,
        data: event.data,
        ...(event.subject && { subject: event.subject }),
        ...(event.actor && { actor: event.actor }),
        ...(event.source && { source: event.source }),
        ...(event.parentId && { parentId: event.parentId }),
        ...(event.correlationId && { correlationId: event.correlationId }),
        occurredAt: new Date(event.occurredAt),
        receivedAt: new Date(event.receivedAt),
        workflowId,
        runId,
        status: 'delivering',
      });
    },

    /** Finds the active subscriptions that want this event and opens one delivery for each. */
    async matchSubscriptions(input: MatchInput): Promise<DeliveryTarget[]> {
      const { tenant, eventId, eventType, workflowId } = input;
      const subs = (await activeSubscriptions(store, tenant))
        .filter((s) => matchesAny(s.eventTypes, eventType))
        .sort((a, b) => a._id.localeCompare(b._id));
      const now = new Date();
      await createDeliveries(
        store,
        subs.map((s) => ({
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
          createdAt: now,
          updatedAt: now,
        })),
      );
      return subs.map((s) => ({
        deliveryId: deliveryKey(workflowId, s._id),
        subscriptionId: s._id,
        channel: s.channel,
        timeoutMs: s.timeoutMs,
      }));
    },

    /**
     * One attempt of one webhook delivery. Returns when the delivery is final; throws a
     * retryable failure carrying the schedule's next delay otherwise.
     */
    async deliverWebhook(input: { deliveryId: string }): Promise<DeliverySummary> {
      // Heartbeats from the first moment: a slow store read must not look like a lost worker.
      const ctx = Context.current();
      const heartbeat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await deliverOnce(input.deliveryId, ctx);
      } finally {
        clearInterval(heartbeat);
      }
    },

    /** Stores the event's final status so lists can filter on it. */
    async finishEvent(input: { tenant: string; eventId: string; status: EventStatus }): Promise<void> {
      await setEventStatus(store, input.tenant, input.eventId, input.status);
    },
  };

  async function deliverOnce(deliveryId: string, ctx: Context): Promise<DeliverySummary> {
    const delivery = await findDelivery(store, deliveryId);
    if (!delivery) throw ApplicationFailure.nonRetryable(`delivery ${deliveryId} not found`, 'DeliveryMissing');
    if (isFinal(delivery.status)) return summaryOf(delivery);

    const sub = await findSubscription(store, delivery.tenant, delivery.subscriptionId);
    if (!sub || !sub.active || !sub.url) {
      const reason = sub ? 'subscription_disabled' : 'subscription_deleted';
      await closeDelivery(store, delivery._id, 'failed', reason);
      metrics.deliveries.inc({ channel: delivery.channel, outcome: 'failed' });
      return summaryOf({ ...delivery, status: 'failed', error: reason });
    }

    const event = await loadEvent(delivery.tenant, delivery.eventId);
    const attempt = delivery.attempts + 1;
    const startedAt = new Date();
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const body = JSON.stringify(webhookPayload(event));
    const headers: Record<string, string> = {
      ...sub.headers,
      'content-type': 'application/json',
      'user-agent': `Herald/${VERSION}`,
      'webhook-id': delivery.messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signingSecrets(sub, startedAt), delivery.messageId, timestamp, body),
    };

    let response;
    try {
      response = await postWebhook(deps.dispatcher, deps.allowPrivateTargets, {
        url: sub.url,
        headers,
        body,
        timeoutMs: sub.timeoutMs,
        signal: ctx.cancellationSignal,
      });
    } catch (err) {
      // Only a cancel someone asked for closes the delivery; a timeout or a worker shutdown
      // also aborts the request, and then Temporal retries the attempt.
      if (!ctx.cancellationDetails?.cancelRequested) throw err;
      await closeDelivery(store, delivery._id, 'cancelled', 'cancelled while the receiver was answering');
      throw new CancelledFailure('delivery cancelled');
    }
    const durationMs = Date.now() - startedAt.getTime();

    const outcome = classifyAttempt(response.result, Date.now());
    const error = outcome.kind === 'succeeded' ? null : outcome.reason;
    let retryDelayMs: number | null = null;
    if (outcome.kind === 'retryable') {
      const scheduled = nextDelayMs(retryPolicyOf(sub.retry), attempt);
      retryDelayMs = scheduled === null ? null : Math.max(scheduled, outcome.minDelayMs ?? 0);
    }
    const progress: DeliveryProgress = {
      status: outcome.kind === 'succeeded' ? 'succeeded' : retryDelayMs === null ? 'failed' : 'retrying',
      lastAttemptAt: startedAt,
      lastResponseStatus: response.status,
      nextAttemptAt: retryDelayMs === null ? null : new Date(Date.now() + retryDelayMs),
      error,
    };
    const attemptDoc: AttemptDoc = {
      _id: `${delivery._id}#${attempt}`,
      tenant: delivery.tenant,
      eventId: delivery.eventId,
      deliveryId: delivery._id,
      subscriptionId: delivery.subscriptionId,
      attempt,
      startedAt,
      durationMs,
      request: { url: sub.url, headers: auditHeaders(headers) },
      response: response.status === null ? null : { status: response.status, body: response.body ?? '' },
      error,
    };
    await recordAttempt(store, attemptDoc, progress);
    if (outcome.kind === 'permanent' && outcome.disableSubscription) {
      await store.subscriptions.updateOne(
        { _id: sub._id, active: true },
        { $set: { active: false, disabledAt: new Date(), disabledReason: outcome.reason, updatedAt: new Date() } },
      );
    }
    metrics.attemptDuration.observe({ channel: 'webhook', outcome: outcome.kind }, durationMs / 1000);

    if (progress.status === 'retrying') {
      throw ApplicationFailure.create({
        message: `attempt ${attempt} failed: ${error}`,
        type: 'DeliveryAttemptFailed',
        nextRetryDelay: retryDelayMs!,
      });
    }
    metrics.deliveries.inc({ channel: 'webhook', outcome: progress.status });
    return summaryOf({ ...progress, attempts: attempt });
  }
}

function auditHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) =>
      name.startsWith('webhook-') || !SENSITIVE_HEADER.test(name) ? [name, value] : [name, '[redacted]'],
    ),
  );
}
