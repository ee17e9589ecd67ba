import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Agent } from 'undici';
import { deliveryView } from '../api/views';
import type { DigestData } from '../domain/digest';
import { digestEmail, digestPayload, eventEmail, webhookPayload } from '../domain/messages';
import { classifyAttempt, classifySmtpReply, type AttemptOutcome } from '../domain/outcome';
import { nextDelayMs, retryPolicyOf } from '../domain/schedule';
import type { HeraldEvent } from '../domain/schemas';
import { signatureHeader } from '../domain/signing';
import { isFinal } from '../domain/status';
import type { WorkerMetrics } from '../metrics';
import type { SecretBox } from '../security/secret-box';
import { isSensitiveHeader, openHeaders, REDACTED } from '../security/sensitive';
import type { AttemptDoc, DeliveryDoc, Store, SubscriptionDoc } from '../store';
import { claimDelivery, closeDelivery, recordAttempt, releaseDelivery, type DeliveryProgress } from '../store/deliveries';
import { eventOf, findEventsByIds, isMarkedForPurge } from '../store/events';
import { findSubscription, signingSecrets } from '../store/subscriptions';
import { activeTraceId } from '../tracing';
import { VERSION } from '../version';
import type { ActivityCaches } from './caches';
import { resultOf } from './delivery-state';
import { postWebhook, RESPONSE_BODY_LIMIT } from './http-sender';
import type { Mailer } from './smtp-sender';
import type { SubscriptionHealth } from './subscription-health';
import type { createThrottle } from './throttle';
import type { AttemptInput, AttemptResult } from './types';

/**
 * The attempt: one try of one delivery, from the claim that fences it against a purge, through
 * the channel's message and send, to the one write that records its outcome.
 */

export interface AttemptDeps {
  store: Store;
  caches: ActivityCaches;
  health: SubscriptionHealth;
  dispatcher: Agent;
  /** The email channel's SMTP transport; absent when `HERALD_SMTP_URL` is not set. */
  mailer?: Mailer;
  allowPrivateTargets: boolean;
  /** Opens the subscriptions' sealed secrets and headers. */
  secretBox: SecretBox;
  metrics: WorkerMetrics;
  /** Per-subscription concurrency and rate limits (src/activities/throttle.ts). */
  throttle: ReturnType<typeof createThrottle>;
}

const HEARTBEAT_EVERY_MS = 1000;

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

export function createAttemptActivities(deps: AttemptDeps) {
  const { store, metrics } = deps;

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
  };

  async function messageContent(delivery: DeliveryDoc): Promise<MessageContent> {
    const event = await deps.caches.loadEvent(delivery.tenant, delivery.eventId);
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

export type AttemptActivities = ReturnType<typeof createAttemptActivities>;
