import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics; each process (API, worker) owns a registry and serves it on /metrics. */
export function createRegistry(processName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function apiMetrics(registry: Registry) {
  return {
    eventsAccepted: new Counter({
      name: 'herald_events_accepted_total',
      help: 'Events accepted by the API (workflow started), by whether they were duplicates (unknown in a batch accepted with Prefer: respond-async)',
      labelNames: ['duplicate'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'herald_http_request_duration_seconds',
      help: 'API request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
export type ApiMetrics = ReturnType<typeof apiMetrics>;

export function workerMetrics(registry: Registry) {
  return {
    deliveries: new Counter({
      name: 'herald_deliveries_total',
      help: 'Deliveries that reached a final outcome, by channel and outcome',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'herald_attempt_duration_seconds',
      help: 'Duration of one delivery attempt, by channel and outcome',
      labelNames: ['channel', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30],
      registers: [registry],
    }),
    throttled: new Counter({
      name: 'herald_deliveries_throttled_total',
      help: 'Times a delivery waited because its subscription was at its concurrency or rate limit',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
  };
}
export type WorkerMetrics = ReturnType<typeof workerMetrics>;
