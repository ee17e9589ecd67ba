import http from 'node:http';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from './activities';
import { temporalGateway } from './temporal/activity-gateway';
import { createDispatcher } from './channels/http-sender';
import { createMailer } from './channels/smtp-sender';
import { createBrokerPool } from './channels/brokers/pool';
import { createThrottle } from './activities/throttle';
import { loadConfig } from './config';
import { limitHeapGrowth } from './heap';
import { createSecretBox } from './security/secret-box';
import { createLogger } from './logger';
import { createRegistry, workerMetrics } from './metrics';
import { connectStore, ensureIndexes } from './store';
import { sealPlaintextSecrets } from './store/subscriptions';
import { ensureRetentionSchedule } from './temporal/retention-schedule';
import { tracingActivityInterceptors, tracingClientInterceptors, workflowSpanSinks } from './temporal/tracing';
import { workflowSource } from './temporal/workflow-source';
import { startTracing } from './tracing';

/** `npm run worker`: one worker process; scale out by running more of them. */
async function main() {
  limitHeapGrowth();
  const config = loadConfig();
  const tracing = config.otlpEndpoint ? startTracing({ serviceName: 'herald-worker', endpoint: config.otlpEndpoint }) : undefined;
  const traced = tracing !== undefined;
  const logger = createLogger('herald-worker', config.logLevel, traced);
  if (!config.encryptionKey) {
    logger.fatal('HERALD_ENCRYPTION_KEY is not set and $HERALD_DATA_DIR/encryption-key does not exist');
    process.exit(1);
  }
  const secretBox = createSecretBox(config.encryptionKey);
  const store = await connectStore(config.mongoUrl);
  await ensureIndexes(store);
  const sealed = await sealPlaintextSecrets(store, secretBox);
  if (sealed > 0) logger.warn({ subscriptions: sealed }, 'sealed signing secrets that were stored in the clear');
  const registry = createRegistry('worker');
  const dispatcher = createDispatcher(config.allowPrivateTargets);
  const mailer = config.smtpUrl ? createMailer(config.smtpUrl, config.smtpFrom) : undefined;
  const brokers = createBrokerPool();
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  // Activities start Herald's own events and signal workflows through a client of their own.
  const clientConnection = await Connection.connect({ address: config.temporalAddress });
  const temporal = new Client({
    connection: clientConnection,
    namespace: config.temporalNamespace,
    ...(traced && { interceptors: tracingClientInterceptors() }),
  });
  try {
    const scheduleId = await ensureRetentionSchedule(temporal, config.taskQueue, config.retentionDays, config.ingestLogDays);
    logger.info({ scheduleId, retentionDays: config.retentionDays }, 'retention schedule in place');
  } catch (err) {
    // Deliveries matter more than retention: the next worker to start tries again.
    logger.error({ err }, 'could not create or update the retention schedule');
  }

  const { workflowModules, ...source } = workflowSource(config.workflowBundle);
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    ...source,
    interceptors: { workflowModules, activity: traced ? [tracingActivityInterceptors] : [] },
    sinks: workflowSpanSinks(tracing),
    activities: createActivities({
      store,
      dispatcher,
      mailer,
      brokers,
      allowPrivateTargets: config.allowPrivateTargets,
      disableAfterMs: config.disableAfterMs,
      secretBox,
      gateway: temporalGateway(temporal, config.taskQueue),
      metrics: workerMetrics(registry),
      logger,
      throttle: createThrottle(config.subscriptionConcurrency),
    }),
    // Deliveries mostly wait on receivers, so many run at once on two cores; more than the
    // store's connection pool would only queue inside the worker.
    maxConcurrentActivityTaskExecutions: 50,
    // Each event's workflow waits out its retry schedule; the SDK's default cache, sized from
    // the heap limit (~2,300 here), let 10,000 waiting deliveries grow the worker by ~0.3 MB
    // each. Past this many, a waiting workflow is evicted and replayed from its short history
    // when its timer fires.
    maxCachedWorkflows: config.maxCachedWorkflows,
    // The SDK bounds each call into the workflow sandbox (several per activation) with Node's
    // vm timeout, which starts and joins a watchdog thread per call: ~100 µs of CPU each, 6-7 %
    // of the worker's CPU per delivery at fan-out 10 (bench/results/2026-12-05T2130Z-watchdog.md).
    // Herald's workflows are its own short, tested code, so by default it runs without the
    // check (0, which patches/@temporalio+worker+1.24.0.patch makes the SDK accept). Without it
    // a workflow step stuck in a loop holds the worker's one workflow thread, so every workflow
    // on that worker; an operator can set a bound to have such a step failed instead.
    isolateExecutionTimeout: config.workflowDeadlockTimeoutMs,
    // For the stack trace query (the Web UI's "Stack Trace" tab) the SDK captures and formats a
    // stack for every promise a workflow makes: half of the workflow thread's CPU, 2-17 % of the
    // worker's per delivery at fan-out 10 (bench/results/stack-traces-2026-12-06T1925Z.md).
    // An event's state is its `status` query and its history; an operator chasing a stuck
    // workflow turns the stacks on (patches/@temporalio+worker+1.24.0.patch adds the option).
    workflowStackTraces: config.workflowStackTraces,
    // SIGTERM: in-flight attempts get this long to finish before they are handed back.
    shutdownGraceTime: '10s',
  });

  const metricsServer = http.createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    // node:http ignores what a request listener returns: the answer goes out once the metrics are collected.
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  metricsServer.on('error', (err) => logger.error({ err }, 'worker metrics server failed; deliveries continue'));
  metricsServer.listen(config.workerMetricsPort, config.host, () => {
    const address = metricsServer.address();
    const port = typeof address === 'object' && address ? address.port : config.workerMetricsPort;
    logger.info(
      { taskQueue: config.taskQueue, metrics: `http://${config.host}:${port}/metrics`, otlpEndpoint: config.otlpEndpoint ?? null },
      'Herald worker running',
    );
  });

  await worker.run(); // resolves after SIGINT/SIGTERM once in-flight tasks are done
  metricsServer.close();
  mailer?.close();
  await Promise.allSettled([connection.close(), clientConnection.close(), store.client.close(), dispatcher.close(), brokers.close()]);
  await tracing?.shutdown(); // last: the spans of the final attempts are exported before the process ends
  logger.info('worker stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
