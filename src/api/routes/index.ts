import type { Router } from 'express';
import { apiKeysRouter } from './api-keys';
import { causalityRouter } from './causality';
import { eventTypesRouter } from './event-types';
import { eventsRouter } from './events';
import { exportRouter } from './export';
import { ingestLogRouter } from './ingest-log';
import { meRouter } from './me';
import { portalSessionsRouter, settingsRouter } from '../portal-sessions';
import { purgeRouter } from './purge';
import { statsRouter } from './stats';
import { subscriptionsRouter } from './subscriptions';

/** What the routers keep for their requests: the union of each one's dependencies. */
export type RouterDeps = Parameters<typeof exportRouter>[0] &
  Parameters<typeof purgeRouter>[0] &
  Parameters<typeof causalityRouter>[0] &
  Parameters<typeof eventsRouter>[0] &
  Parameters<typeof eventTypesRouter>[0] &
  Parameters<typeof ingestLogRouter>[0] &
  Parameters<typeof subscriptionsRouter>[0] &
  Parameters<typeof apiKeysRouter>[0] &
  Parameters<typeof meRouter>[0] &
  Parameters<typeof statsRouter>[0];

/**
 * The API's routers by mount path, in the order they match. test/unit/openapi-routes.test.ts
 * checks the OpenAPI document against every route they serve, both ways.
 */
export function apiRouters(deps: RouterDeps): [mountPath: string, router: Router][] {
  const causality = causalityRouter(deps);
  return [
    ['/v1/events', exportRouter(deps)], // before `/v1/events/{id}`: ingestion refuses the id "export"
    ['/v1/events', purgeRouter(deps)],
    ['/v1/events', causality.events],
    ['/v1/events', eventsRouter(deps)],
    ['/v1/subjects', causality.subjects],
    ['/v1/event-types', eventTypesRouter(deps)],
    ['/v1/ingest-log', ingestLogRouter(deps)],
    ['/v1/subscriptions', subscriptionsRouter(deps)],
    ['/v1/api-keys', apiKeysRouter(deps)],
    ['/v1/me', meRouter(deps)],
    ['/v1/portal-sessions', portalSessionsRouter(deps)],
    ['/v1/settings', settingsRouter(deps)],
    ['/v1/stats', statsRouter(deps)],
  ];
}
