import { Router, type Response } from 'express';
import { newEventId, newSecret, newSubscriptionId, newUlid } from '../../domain/ids';
import { channelOf, targetOf, targetRefusal } from '../../channels';
import { foreignTargetFields } from '../../domain/channels';
import { DEFAULT_TIMEOUT_MS, parseDuration } from '../../domain/schedule';
import {
  brokerTargetIssues,
  listQuerySchema,
  previewSchema,
  recoverSchema,
  rotateSecretSchema,
  subscriptionCreateSchema,
  subscriptionPatchSchema,
  type SubscriptionCreate,
  type SubscriptionHealth,
} from '../../domain/schemas';
import { successRate } from '../../domain/stats';
import type { BrokerTarget, Store, SubscriptionDoc } from '../../store';
import { attemptsForEvent } from '../../store/deliveries';
import { lastFailedDelivery, statsSince, subscriptionCounts } from '../../store/stats';
import type { SecretBox } from '../../security/secret-box';
import { sealHeaders } from '../../security/sensitive';
import {
  countSubscriptions,
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  rotateSecret,
  updateSubscription,
} from '../../store/subscriptions';
import { signalIfRunning, startDeliverEvent } from '../../temporal/deliver-event-client';
import { wakeWaitingDeliveries } from '../../store/waiting-deliveries';
import { subscriptionChangeEvent, type SubscriptionChange } from '../change-events';
import type { AfterAnswer } from '../after-answer';
import { announce, type AnnounceDeps } from '../announce';
import { eventWorkflowId, RECOVER_DELIVERIES_WORKFLOW, recoverWorkflowId } from '../../temporal/names';
import type { deliverEvent } from '../../workflows/deliver-event';
import { retrySignal } from '../../workflows/definitions';
import type { recoverDeliveries } from '../../workflows/recover-deliveries';
import { principalOf, requireScope } from '../auth';
import { subscriptionsForLimitedKeys } from '../key-limits';
import { checkIdParam, notFound, parseOrThrow, ProblemError, validationProblem } from '../problem';
import { completeEvent } from '../ingest';
import { callTemporal } from '../temporal-call';
import { attemptView, subscriptionView } from '../views';
import { ownEvent, PING_EVENT_TYPE } from '../../domain/own-events';

/** How long `test` waits beyond the subscription's own timeout before answering 202 instead. */
const TEST_GRACE_MS = 10_000;

export interface SubscriptionDeps extends AnnounceDeps {
  store: Store;
  afterAnswer: AfterAnswer;
  allowPrivateTargets: boolean;
  secretBox: SecretBox;
  maxSubscriptionsPerTenant: number;
}

/** Subscriptions: who wants which events, where, and how deliveries to them are retried. */
export function subscriptionsRouter(deps: SubscriptionDeps): Router {
  const router = Router();
  router.param('id', checkIdParam('subscription'));
  router.use(subscriptionsForLimitedKeys);

  /** Refuses a target its channel knows to be bad before anything is stored or read. */
  function checkTarget(fields: Record<string, unknown>): void {
    const refusal = targetRefusal(fields, deps.allowPrivateTargets);
    if (refusal) throw validationProblem([refusal]);
  }

  const announceChange = (change: SubscriptionChange, doc: SubscriptionDoc, res: Response) =>
    announce(deps, doc.tenant, subscriptionChangeEvent(change, doc, `key:${principalOf(res).keyId}`, new Date()));

  async function load(tenant: string, id: string): Promise<SubscriptionDoc> {
    const doc = await findSubscription(deps.store, tenant, id);
    if (!doc) throw notFound(`subscription ${id}`);
    return doc;
  }

  router.post('/', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const input = parseOrThrow(subscriptionCreateSchema, req.body);
    checkTarget(input);
    if ((await countSubscriptions(deps.store, tenant)) >= deps.maxSubscriptionsPerTenant) {
      throw new ProblemError(
        409,
        'Limit reached',
        `A tenant may have at most ${deps.maxSubscriptionsPerTenant} subscriptions (HERALD_MAX_SUBSCRIPTIONS).`,
      );
    }
    const now = new Date();
    const secret = input.secret ?? newSecret();
    const doc: SubscriptionDoc = {
      _id: newSubscriptionId(),
      tenant,
      ...(input.name !== undefined && { name: input.name }),
      eventTypes: input.eventTypes,
      ...(input.filter !== undefined && { filterJson: JSON.stringify(input.filter) }), // text: see SubscriptionDoc
      ...targetOf(input, deps.secretBox),
      ...(input.digest !== undefined && { digest: input.digest }),
      ...(input.retry !== undefined && { retry: input.retry }),
      ...(input.rateLimitPerSecond !== undefined && { rateLimitPerSecond: input.rateLimitPerSecond }),
      secrets: [{ value: deps.secretBox.seal(secret) }],
      timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      active: input.active ?? true,
      createdAt: now,
      updatedAt: now,
    };
    await insertSubscription(deps.store, doc);
    await announceChange('created', doc, res);
    res
      .status(201)
      .location(`/v1/subscriptions/${doc._id}`)
      .json({ ...subscriptionView(doc), secret });
  });

  router.get('/', requireScope('subscriptions:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const query = parseOrThrow(listQuerySchema, req.query);
    const page = await listSubscriptions(deps.store, tenant, query.limit, query.cursor);
    res.json({ data: page.data.map(subscriptionView), nextCursor: page.nextCursor });
  });

  router.get('/:id', requireScope('subscriptions:read'), async (req, res) => {
    res.json(subscriptionView(await load(principalOf(res).tenant, String(req.params.id))));
  });

  /** Health over the last 24 hours: what the portal shows beside each subscription. */
  router.get('/:id/health', requireScope('subscriptions:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const sub = await load(tenant, String(req.params.id));
    const since = statsSince(new Date());
    const [deliveries, lastFailed] = await Promise.all([
      subscriptionCounts(deps.store, tenant, sub._id, since),
      lastFailedDelivery(deps.store, tenant, sub._id),
    ]);
    const health: SubscriptionHealth = {
      subscriptionId: sub._id,
      since: since.toISOString(),
      deliveries,
      successRate: successRate(deliveries),
      lastError: lastFailed && {
        eventId: lastFailed.eventId,
        at: lastFailed.lastAttemptAt?.toISOString() ?? null,
        responseStatus: lastFailed.lastResponseStatus ?? null,
        error: lastFailed.error ?? null,
        status: lastFailed.status,
      },
      active: sub.active,
      disabledAt: sub.disabledAt?.toISOString() ?? null,
      disabledReason: sub.disabledReason ?? null,
      failingSince: sub.failingSince?.toISOString() ?? null,
    };
    res.json(health);
  });

  router.patch('/:id', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const patch = parseOrThrow(subscriptionPatchSchema, req.body);
    checkTarget(patch);
    const current = await load(tenant, String(req.params.id));
    const foreign = foreignTargetFields(current.channel, patch);
    if (foreign.length > 0)
      throw validationProblem(foreign.map(({ field, owner }) => ({ path: field, message: `applies to channel "${owner}" only` })));
    const brokerProblems = patch.target === undefined ? [] : brokerTargetIssues(current.channel, patch.target);
    if (brokerProblems.length > 0) throw validationProblem(brokerProblems.map(({ path, message }) => ({ path: path.join('.'), message })));
    const sealed = {
      ...patch,
      ...(patch.headers && { headers: sealHeaders(patch.headers, deps.secretBox) }),
      // A new target replaces the old one whole, its credentials sealed as at create.
      ...(patch.target && {
        target: {
          ...(targetOf({ channel: current.channel, target: patch.target } as SubscriptionCreate, deps.secretBox) as BrokerTarget).target,
        },
      }),
    };
    const updated = await updateSubscription(deps.store, tenant, current._id, sealed, new Date());
    if (!updated) throw notFound(`subscription ${current._id}`);
    await announceChange('updated', updated, res);
    res.json(subscriptionView(updated));
  });

  router.delete('/:id', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const current = await load(tenant, String(req.params.id));
    if (!(await deleteSubscription(deps.store, tenant, current._id))) throw notFound(`subscription ${current._id}`);
    await announceChange('deleted', current, res);
    // As an auto-disable does: its deliveries waiting for a next attempt fail now. After the
    // answer, which the delete is: up to 1,000 signals, each waiting on a slow Temporal.
    const request = { subscriptionId: current._id, requestedBy: 'herald', onlyIfWaiting: true };
    deps.afterAnswer.track(
      wakeWaitingDeliveries(deps.store, current._id, (workflowId) =>
        callTemporal(deps.connection, () => signalIfRunning(deps.temporal, workflowId, retrySignal, request)),
      ).catch((err: unknown) =>
        deps.logger.error({ err, subscriptionId: current._id }, 'could not wake the deliveries waiting on a deleted subscription'),
      ),
    );
    res.status(204).end();
  });

  router.post('/:id/rotate-secret', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const input = parseOrThrow(rotateSecretSchema, req.body ?? {});
    const secret = input.secret ?? newSecret();
    const id = String(req.params.id);
    const rotated = await rotateSecret(deps.store, tenant, id, deps.secretBox.seal(secret), new Date());
    if (!rotated) throw notFound(`subscription ${id}`);
    await announceChange('updated', rotated, res);
    res.json({ ...subscriptionView(rotated), secret });
  });

  /**
   * Sends a `herald.ping` to this subscription only (one attempt, also when it is disabled)
   * and answers its outcome; 202 with the workflow id when the receiver takes too long.
   */
  router.post('/:id/test', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const sub = await load(tenant, String(req.params.id));
    const event = ownEvent({
      id: newEventId(),
      type: PING_EVENT_TYPE,
      data: { subscriptionId: sub._id, message: 'A test event sent by Herald.' },
      subject: { type: 'subscription', id: sub._id },
      actor: `key:${principalOf(res).keyId}`,
      occurredAt: new Date(),
    });
    const workflowId = eventWorkflowId(tenant, event.id);
    await callTemporal(deps.connection, () =>
      startDeliverEvent(deps.temporal, deps.taskQueue, workflowId, { tenant, event, mode: { kind: 'ping', subscriptionId: sub._id } }),
    );
    const handle = deps.temporal.workflow.getHandle<typeof deliverEvent>(workflowId);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      handle.result(),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), sub.timeoutMs + TEST_GRACE_MS))),
    ]).finally(() => clearTimeout(timer));
    if (!finished) {
      res.status(202).json({ eventId: event.id, workflowId, status: 'delivering' });
      return;
    }
    const attempts = await attemptsForEvent(deps.store, tenant, event.id);
    const delivery = finished.deliveries[0] ?? null;
    res.json({
      eventId: event.id,
      workflowId,
      status: delivery?.status ?? 'failed',
      delivery,
      attempt: attempts[0] ? attemptView(attempts[0]) : null,
    });
  });

  /**
   * Renders what this subscription would be sent for an event, without sending anything or
   * storing the event: the email's subject and parts, or the webhook body. A digest
   * subscription shows a digest holding just this event.
   */
  router.post('/:id/preview', requireScope('subscriptions:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const { event: input } = parseOrThrow(previewSchema, req.body ?? {});
    const sub = await load(tenant, String(req.params.id));
    const now = new Date();
    const event = completeEvent(input, now);
    const collected = sub.digest && {
      events: [event],
      window: { openedAt: now.toISOString(), closedAt: new Date(now.getTime() + parseDuration(sub.digest.every)).toISOString() },
    };
    res.json({ channel: sub.channel, ...channelOf(sub).preview({ event, collected: collected || null }) });
  });

  /** Redelivers the subscription's failed deliveries opened in the window, in a workflow of its own. */
  router.post('/:id/recover', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant, keyId } = principalOf(res);
    const input = parseOrThrow(recoverSchema, req.body ?? {});
    const sub = await load(tenant, String(req.params.id));
    const workflowId = recoverWorkflowId(tenant, sub._id, newUlid());
    await callTemporal(deps.connection, () =>
      deps.temporal.workflow.start<typeof recoverDeliveries>(RECOVER_DELIVERIES_WORKFLOW, {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [
          {
            tenant,
            subscriptionId: sub._id,
            since: new Date(input.since).toISOString(),
            until: new Date(input.until ?? Date.now()).toISOString(),
            requestedBy: `key:${keyId}`,
          },
        ],
      }),
    );
    res.status(202).json({ workflowId });
  });

  return router;
}
