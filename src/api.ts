import { once } from 'node:events';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
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
  if (config.adminKey.length < 16) logger.warn('HERALD_ADMIN_KEY is shorter than 16 characters: anyone who guesses it is admin');
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
  // Each connection's request as far as it came, for the shutdown below: none yet while its
  // headers are still arriving.
  const connections = new Map<Socket, IncomingMessage | undefined>();
  server.on('connection', (socket: Socket) => {
    connections.set(socket, undefined);
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (req: IncomingMessage) => connections.set(req.socket, req));
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
    // longest a request may take, the connections whose request has not fully arrived are
    // closed; a request received whole is answered, however long its handler takes.
    const stragglers = setTimeout(() => {
      for (const [socket, req] of connections) if (!req?.complete) socket.destroy();
    }, server.requestTimeout);
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
