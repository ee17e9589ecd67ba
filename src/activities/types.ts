import type { HeraldEvent } from '../domain/schemas';
import type { DeliveryStatus } from '../domain/status';

/** Inputs and results that cross the workflow/activity boundary: small, references not payloads. */

export interface RecordEventInput {
  tenant: string;
  event: HeraldEvent;
  workflowId: string;
  runId: string;
}

export interface MatchInput {
  tenant: string;
  eventId: string;
  eventType: string;
  workflowId: string;
}

export interface DeliveryTarget {
  deliveryId: string;
  subscriptionId: string;
  channel: 'webhook' | 'email';
  timeoutMs: number;
}

export interface DeliverySummary {
  status: Extract<DeliveryStatus, 'succeeded' | 'failed' | 'cancelled'>;
  attempts: number;
  lastAttemptAt: string | null;
  lastResponseStatus: number | null;
  error: string | null;
}
