import { Router } from 'express';
import { newSecret, newSubscriptionId } from '../../domain/ids';
import { listQuerySchema, subscriptionCreateSchema, subscriptionPatchSchema } from '../../domain/schemas';
import { classifyUrlHost } from '../../domain/targets';
import type { Store, SubscriptionDoc } from '../../store';
import { InvalidCursorError } from '../../store/events';
import {
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  subscriptionView,
  updateSubscription,
} from '../../store/subscriptions';
import { principalOf, requireScope } from '../auth';
import { notFound, parseOrThrow, ProblemError, validationProblem } from '../problem';

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface SubscriptionDeps {
  store: Store;
  allowPrivateTargets: boolean;
}

/** Subscriptions: who wants which events, where, and how deliveries to them are retried. */
export function subscriptionsRouter(deps: SubscriptionDeps): Router {
  const router = Router();

  /** A literal address in a refused range is known bad already; names are checked at connect time. */
  function checkTarget(url: string | undefined): void {
    if (!url || deps.allowPrivateTargets) return;
    const verdict = classifyUrlHost(new URL(url));
    if (!verdict.allowed) throw validationProblem([{ path: 'url', message: `target refused: ${verdict.reason}` }]);
  }

  async function load(tenant: string, id: string): Promise<SubscriptionDoc> {
    const doc = await findSubscription(deps.store, tenant, id);
    if (!doc) throw notFound(`subscription ${id}`);
    return doc;
  }

  router.post('/', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const input = parseOrThrow(subscriptionCreateSchema, req.body);
    if (input.channel === 'email') {
      throw new ProblemError(400, 'Channel not available', 'The email channel is not available in this version of Herald yet.');
    }
    checkTarget(input.url);
    const now = new Date();
    const secret = input.secret ?? newSecret();
    const doc: SubscriptionDoc = {
      _id: newSubscriptionId(),
      tenant,
      ...(input.name !== undefined && { name: input.name }),
      eventTypes: input.eventTypes,
      channel: input.channel,
      ...(input.url !== undefined && { url: input.url }),
      ...(input.headers !== undefined && { headers: input.headers }),
      ...(input.retry !== undefined && { retry: input.retry }),
      ...(input.rateLimitPerSecond !== undefined && { rateLimitPerSecond: input.rateLimitPerSecond }),
      secrets: [{ value: secret }],
      timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      active: input.active ?? true,
      createdAt: now,
      updatedAt: now,
    };
    await insertSubscription(deps.store, doc);
    res.status(201).location(`/v1/subscriptions/${doc._id}`).json({ ...subscriptionView(doc), secret });
  });

  router.get('/', requireScope('subscriptions:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const query = parseOrThrow(listQuerySchema, req.query);
    try {
      const page = await listSubscriptions(deps.store, tenant, query.limit, query.cursor);
      res.json({ data: page.data.map(subscriptionView), nextCursor: page.nextCursor });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw validationProblem([{ path: 'cursor', message: err.message }]);
      throw err;
    }
  });

  router.get('/:id', requireScope('subscriptions:read'), async (req, res) => {
    res.json(subscriptionView(await load(principalOf(res).tenant, String(req.params.id))));
  });

  router.patch('/:id', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    const patch = parseOrThrow(subscriptionPatchSchema, req.body);
    const current = await load(tenant, String(req.params.id));
    if (current.channel === 'webhook' && patch.to) throw validationProblem([{ path: 'to', message: 'applies to channel "email" only' }]);
    checkTarget(patch.url);
    const updated = await updateSubscription(deps.store, tenant, current._id, patch, new Date());
    if (!updated) throw notFound(`subscription ${current._id}`);
    res.json(subscriptionView(updated));
  });

  router.delete('/:id', requireScope('subscriptions:write'), async (req, res) => {
    const { tenant } = principalOf(res);
    if (!(await deleteSubscription(deps.store, tenant, String(req.params.id)))) throw notFound(`subscription ${req.params.id}`);
    res.status(204).end();
  });

  return router;
}
