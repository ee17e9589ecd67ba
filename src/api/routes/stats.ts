import { Router } from 'express';
import { successRate } from '../../domain/stats';
import type { Overview } from '../../domain/schemas';
import { findByIds, type Store } from '../../store';
import { countsBySubscription, hourlyStats, statsSince } from '../../store/stats';
import { principalOf, requireScope } from '../auth';
import { unlimitedKeysOnly } from '../key-limits';

const FAILING_SHOWN = 10;

/** `GET /v1/stats/overview`: the tenant's last 24 hours, for the portal's charts. */
export function statsRouter(deps: { store: Store }): Router {
  const router = Router();

  router.get(
    '/overview',
    requireScope('events:read'),
    unlimitedKeysOnly("the overview counts all the tenant's events and deliveries"),
    async (_req, res) => {
      const { tenant } = principalOf(res);
      const now = new Date();
      const since = statsSince(now);
      const [hours, bySubscription] = await Promise.all([
        hourlyStats(deps.store, tenant, now),
        countsBySubscription(deps.store, tenant, since),
      ]);
      const failures = (s: (typeof bySubscription)[number]) => s.deliveries.failed + s.deliveries.retrying;
      // Most failures first; ties oldest subscription first, so the chart's order holds between refreshes.
      const failing = bySubscription
        .filter((s) => failures(s) > 0)
        .sort((a, b) => failures(b) - failures(a) || (a.subscriptionId < b.subscriptionId ? -1 : 1))
        .slice(0, FAILING_SHOWN);
      const subscriptions = new Map(
        (
          await findByIds(
            deps.store.subscriptions,
            failing.map((f) => f.subscriptionId),
          )
        )
          .filter((s) => s.tenant === tenant)
          .map((s) => [s._id, s]),
      );
      const overview: Overview = {
        since: since.toISOString(),
        hours: hours.map((h) => ({ start: h.start.toISOString(), events: h.events, deliveries: h.deliveries })),
        failingSubscriptions: failing.map((f) => {
          const sub = subscriptions.get(f.subscriptionId);
          return {
            subscriptionId: f.subscriptionId,
            name: sub?.name ?? null,
            deliveries: f.deliveries,
            successRate: successRate(f.deliveries),
            disabledReason: sub?.disabledReason ?? null,
          };
        }),
      };
      res.json(overview);
    },
  );

  return router;
}
