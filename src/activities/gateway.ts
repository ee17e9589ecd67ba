import type { HeraldEvent } from '../domain/schemas';
import type { ControlRequest, DeliverEventInput, DigestEntry } from '../workflows/definitions';

/**
 * What activities ask of Temporal itself. worker.ts injects it (src/temporal/activity-gateway.ts),
 * so the activities import no Temporal client and no workflow module.
 */
export interface TemporalGateway {
  /**
   * Sends `retry` to an event's workflow. With `resume`, a workflow that has closed gets a new
   * run that picks its deliveries up from the audit; without it, a closed one is left alone.
   */
  retry(workflowId: string, request: ControlRequest, resume?: DeliverEventInput & { mode: { kind: 'resume' } }): Promise<void>;
  /** Feeds an event to a subscription's digest workflow, starting that workflow when none runs. */
  feedDigest(tenant: string, subscriptionId: string, entry: DigestEntry): Promise<void>;
  /** Starts the workflow of one of Herald's own events (`herald.*`). */
  emit(tenant: string, event: HeraldEvent): Promise<void>;
  /** Starts an accepted event's workflow once; false when its id was started before (a duplicate). */
  startEvent(input: DeliverEventInput): Promise<boolean>;
}
