import { once } from 'node:events';
import path from 'node:path';
import { createAfterAnswer } from './api/after-answer';
import { createApp } from './api/app';
import { loadConfig } from './config';
import { limitHeapGrowth } from './heap';
import { createSecretBox } from './security/secret-box';
import { createLogger } from './logger';
import { apiMetrics, createRegistry } from './metrics';
import { connectStore, ensureIndexes } from './store';
import { createTemporalClient } from './temporal/client';
import { startTracing } from './tracing';
import { Connection } from '@temporalio/client';

/** `npm run api`: one API process against the configured Temporal and store. */
async function main() {
  limitHeapGrowth();
  const config = loadConfig();
  const tracing = config.otlpEndpoint ? startTracing({ serviceName: 'herald-api', endpoint: config.otlpEndpoint }) : undefined;
  const traced = tracing !== undefined;
  const logger = createLogger('herald-api', config.logLevel, traced);
  if (!config.adminKey) {
    logger.fatal('HERALD_ADMIN_KEY is not set and $HERALD_DATA_DIR/admin-key does not exist');
    process.exit(1);
  }
  if (!config.encryptionKey) {
    logger.fatal('HERALD_ENCRYPTION_KEY is not set and $HERALD_DATA_DIR/encryption-key does not exist');
    process.exit(1);
  }
  const store = await connectStore(config.mongoUrl);
  await ensureIndexes(store);
  const temporal = createTemporalClient(config.temporalAddress, config.temporalNamespace, traced);
  const registry = createRegistry('api');
  const afterAnswer = createAfterAnswer();
  const app = createApp({
    temporal,
    connection: temporal.connection as Connection,
    store,
    taskQueue: config.taskQueue,
    metrics: apiMetrics(registry),
    registry,
    logger,
    adminKey: config.adminKey,
    allowPrivateTargets: config.allowPrivateTargets,
    secretBox: createSecretBox(config.encryptionKey),
    ingestRate: config.ingestRate,
    maxSubscriptionsPerTenant: config.maxSubscriptionsPerTenant,
    maxPendingStarts: config.maxPendingStarts,
    temporalUiUrl: config.temporalUiUrl,
    temporalNamespace: config.temporalNamespace,
    portalDir: path.join(__dirname, '..', 'portal'),
    traced,
    afterAnswer,
  });
  const server = app.listen(config.port, config.host);
  await once(server, 'listening');
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  logger.info(
    {
      url: `http://${config.host}:${config.port}`,
      allowPrivateTargets: config.allowPrivateTargets,
      otlpEndpoint: config.otlpEndpoint ?? null,
    },
    'Herald API listening',
  );

  // SIGTERM/SIGINT: stop accepting, let in-flight requests and what follows their answers
  // finish, then close clients and exit 0.
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close();
    server.closeIdleConnections();
    // Closing stops Node's timer that enforces headersTimeout and requestTimeout: a client still
    // sending its request would hold the close, and the drain after it, for good. Past the
    // longest a request may take, what is still open is closed.
    const stragglers = setTimeout(() => server.closeAllConnections(), server.requestTimeout);
    await once(server, 'close');
    clearTimeout(stragglers);
    await afterAnswer.drain();
    await Promise.allSettled([temporal.connection.close(), store.client.close(), tracing?.shutdown()]);
    process.exit(0);
  };
  process.once('SIGTERM', (s) => void shutdown(s));
  process.once('SIGINT', (s) => void shutdown(s));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
