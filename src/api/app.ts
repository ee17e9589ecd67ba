import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { SecretBox } from '../security/secret-box';
import type { AfterAnswer } from './after-answer';
import { MAX_BODY_BYTES } from '../domain/schemas';
import { allEventTypes } from '../store/event-types';
import { authenticate, principalOf } from './auth';
import { createRejectionAlerts, ingestLog, keepRawBody } from './ingest-log';
import { announceExpiredKeys } from './key-expiry';
import type { IngestDeps } from './ingest';
import { openApiDocument } from './openapi';
import { portalSessionGate } from './portal-session-gate';
import { portalCsp, portalSessionAuth, portalSessionPages } from './portal-sessions';
import { problemBody, problemHandler, sendProblem } from './problem';
import { registryReaders } from './routes/event-types';
import { apiRouters } from './routes';
import { tenantVersionsReader } from './tenant-versions';
import { traceRoute } from './tracing';
import { eventTypeView } from './views';

export interface AppDeps extends IngestDeps {
  adminKey: string;
  allowPrivateTargets: boolean;
  secretBox: SecretBox;
  /** Events per second each key may ingest. */
  ingestRate: number;
  maxSubscriptionsPerTenant: number;
  /** Events started at once before ingestion answers 503 (default 500). */
  maxPendingStarts?: number;
  registry: Registry;
  logger: Logger;
  /** How often a key's refused ingestion requests are announced (default one minute). */
  rejectionAlertIntervalMs?: number;
  /** The Temporal Web UI people open (HERALD_TEMPORAL_UI_URL); `GET /v1/me` tells the portal. */
  temporalUiUrl: string;
  temporalNamespace: string;
  /** The built portal (dist/portal), served at /portal; absent when it was not built. */
  portalDir?: string;
  /** Ingestion opens a span (the root of each event's trace) when the process traces. */
  traced?: boolean;
  /** What the API does after answering; its shutdown waits for it. */
  afterAnswer: AfterAnswer;
}

/** Names a router's mount in the request-duration metric's `route` label. */
const labelled =
  (mount: string): express.RequestHandler =>
  (_req, res, next) => {
    res.locals.mount = mount;
    next();
  };

/**
 * The HTTP API. It validates and starts workflows; everything durable happens in Temporal
 * and in the workflows' activities.
 */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // Express types the matched route as `any`; it is the router's Route, or undefined when none matched.
      const matched = req.route as express.IRoute | undefined;
      // The mount as written (`labelled`), not `req.baseUrl`: that is the path as the client cased
      // it (routing ignores case: one label per spelling), and '' again once an error left the router.
      const route = matched ? `${(res.locals as { mount?: string }).mount ?? ''}${matched.path}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [temporal, store] = await Promise.all([
      deps.connection
        .withDeadline(Date.now() + 2000, () => deps.connection.healthService.check({}))
        .then(
          () => true,
          () => false,
        ),
      deps.store.db.command({ ping: 1 }).then(
        () => true,
        () => false,
      ),
    ]);
    res.status(temporal && store ? 200 : 503).json({ temporal, store });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  const openapi = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  if (deps.portalDir) app.use('/portal', labelled('/portal'), portal(deps.portalDir, portalSessionPages(deps)));

  const versionsOf = tenantVersionsReader(deps.store);
  app.use('/v1', authenticate(deps.adminKey, deps.store, versionsOf, portalSessionAuth(deps.store)));
  app.post('/v1/events', ingestLog({ ...deps, alerts: createRejectionAlerts(deps, deps.rejectionAlertIntervalMs) }));
  // Any content type is read as JSON so `curl -d` works without a header; bodies are capped.
  app.use('/v1', express.json({ limit: MAX_BODY_BYTES, type: () => true, strict: false, verify: keepRawBody }));
  if (deps.traced) app.post('/v1/events', traceRoute('POST', '/v1/events'));
  app.use('/v1', portalSessionGate(deps));
  for (const [mountPath, router] of apiRouters({ ...deps, versionsOf })) app.use(mountPath, labelled(mountPath), router);
  app.get('/v1/openapi.json', registryReaders, async (_req, res) => {
    res.json(openApiDocument((await allEventTypes(deps.store, principalOf(res).tenant)).map(eventTypeView)));
  });

  app.use((req, res) => {
    sendProblem(res, problemBody(404, 'Not found', `No route for ${req.method} ${req.path}`));
  });
  app.use(announceExpiredKeys(deps));
  app.use(problemHandler(deps.logger));
  return app;
}

/**
 * The portal: static files built by Vite. It keeps its key in sessionStorage and talks to
 * /v1 like any client, so it gets no privileges here; a strict CSP keeps it to its own files
 * and out of frames, but for a portal session's tenant's own origins (`sessions`).
 */
function portal(dir: string, sessions: express.Router): express.Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': portalCsp([]),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });
  router.use(sessions);
  // Hashed asset names change with every build, so they may be cached for good; index.html may not.
  router.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d' }));
  router.get(['/', '/index.html'], (_req, res) => {
    const index = path.join(dir, 'index.html');
    if (!existsSync(index)) return sendProblem(res, problemBody(404, 'Not found', 'The portal was not built: run "npm run build".'));
    res.set('Cache-Control', 'no-cache').sendFile(index);
  });
  return router;
}
