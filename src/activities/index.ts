import type { Agent } from 'undici';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../metrics';
import type { SecretBox } from '../security/secret-box';
import type { Store } from '../store';
import { createAttemptActivities } from './attempt';
import { createAuditActivities } from './audit';
import { createActivityCaches } from './caches';
import type { TemporalGateway } from './gateway';
import { createIntakeActivities } from './intake';
import { createMaintenanceActivities } from './maintenance';
import type { BrokerPool } from '../channels/brokers/pool';
import type { Mailer } from '../channels/smtp-sender';
import { createSubscriptionHealth } from './subscription-health';
import type { createThrottle } from './throttle';

/**
 * All of Herald's I/O that workflows ask for, by job: the audit's writes (./audit.ts), the
 * attempt (./attempt.ts, with the subscription health it reports to), the intake of batches
 * accepted to start later (./intake.ts), and maintenance
 * (./maintenance.ts). Each activity is idempotent: a retry after a crash finds what the first
 * try wrote instead of writing it again.
 */

export interface ActivityDeps {
  store: Store;
  /** What activities ask of Temporal: retry signals, digest feeds, Herald's own events. */
  gateway: TemporalGateway;
  dispatcher: Agent;
  /** The email channel's SMTP transport; absent when `HERALD_SMTP_URL` is not set. */
  mailer?: Mailer;
  allowPrivateTargets: boolean;
  /** Failing without one success this long disables a subscription (`HERALD_DISABLE_AFTER`). */
  disableAfterMs: number;
  /** Opens the subscriptions' sealed secrets and headers. */
  secretBox: SecretBox;
  /** The broker channels' connections, closed by the worker when it stops. */
  brokers: BrokerPool;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Per-subscription concurrency and rate limits (src/activities/throttle.ts). */
  throttle: ReturnType<typeof createThrottle>;
}

export function createActivities(deps: ActivityDeps) {
  const { store, gateway } = deps;
  const caches = createActivityCaches(store);
  const health = createSubscriptionHealth({ store, gateway, caches, logger: deps.logger, disableAfterMs: deps.disableAfterMs });
  const audit = createAuditActivities({ store, caches, gateway });
  return {
    ...audit,
    ...createAttemptActivities({ ...deps, caches, health, openEvent: (input) => audit.openEvent(input) }),
    ...createMaintenanceActivities({ store, gateway }),
    ...createIntakeActivities({ store, gateway }),
  };
}
