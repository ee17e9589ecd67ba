import type { z } from 'zod';
import type { mqttTargetSchema, natsTargetSchema, rabbitmqTargetSchema, redisTargetSchema } from '../domain/broker-targets';
import type {
  acceptedEventSchema,
  acceptedLaterBatchSchema,
  apiKeyCreateSchema,
  apiKeySchema,
  attemptViewSchema,
  deliveryControlSchema,
  eventInputSchema,
  eventListItemSchema,
  eventListQuerySchema,
  eventDetailSchema,
  listQuerySchema,
  problemSchema,
  recoverSchema,
  rotateSecretSchema,
  signalledWorkflowsSchema,
  startedWorkflowSchema,
  subscriptionCreateSchema,
  subscriptionPatchSchema,
  subscriptionSchema,
  subscriptionTestResultSchema,
} from '../domain/schemas';
import type {
  portalSessionCreateSchema,
  portalSessionSchema,
  tenantSettingsPatchSchema,
  tenantSettingsSchema,
} from '../domain/portal-sessions';

/**
 * The client's types, all inferred from the schemas the API validates with: what a call
 * takes is the schema's input (z.input), what it answers is the view schema's output (z.infer).
 */

export type EventInput = z.input<typeof eventInputSchema>;
export type AcceptedEvent = z.infer<typeof acceptedEventSchema>;
export type AcceptedLaterBatch = z.infer<typeof acceptedLaterBatchSchema>;
/** `GET /v1/events/{id}` (the API's `eventDetailSchema`; the client's name for it predates `filteredOut`). */
export type EventView = z.infer<typeof eventDetailSchema>;
export type EventListItem = z.infer<typeof eventListItemSchema>;
export type Attempt = z.infer<typeof attemptViewSchema>;
export type DeliveryControl = z.input<typeof deliveryControlSchema>;
export type SignalledWorkflows = z.infer<typeof signalledWorkflowsSchema>;
export type StartedWorkflow = z.infer<typeof startedWorkflowSchema>;

export type SubscriptionCreate = z.input<typeof subscriptionCreateSchema>;
/** The `target` of a rabbitmq, nats, redis or mqtt subscription (docs/api.md section 7). */
export type RabbitmqTarget = z.input<typeof rabbitmqTargetSchema>;
export type NatsTarget = z.input<typeof natsTargetSchema>;
export type RedisTarget = z.input<typeof redisTargetSchema>;
export type MqttTarget = z.input<typeof mqttTargetSchema>;
export type BrokerTarget = RabbitmqTarget | NatsTarget | RedisTarget | MqttTarget;
export type SubscriptionPatch = z.input<typeof subscriptionPatchSchema>;
export type Subscription = z.infer<typeof subscriptionSchema>;
export type SubscriptionTestResult = z.infer<typeof subscriptionTestResultSchema>;
export type RotateSecret = z.input<typeof rotateSecretSchema>;
export type Recover = z.input<typeof recoverSchema>;

export type ApiKeyCreate = z.input<typeof apiKeyCreateSchema>;
export type ApiKey = z.infer<typeof apiKeySchema>;

export type PortalSessionCreate = z.input<typeof portalSessionCreateSchema>;
export type PortalSession = z.infer<typeof portalSessionSchema>;
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
export type TenantSettingsPatch = z.input<typeof tenantSettingsPatchSchema>;

export type Problem = z.infer<typeof problemSchema>;

/**
 * Query strings carry text, so the schemas coerce `limit` (input type `unknown`) and parse
 * `open` from "true"/"false"; a caller passes them as the values they mean.
 */
type Paging = { limit?: number; cursor?: string };
export type ListQuery = Omit<z.input<typeof listQuerySchema>, 'limit' | 'cursor'> & Paging;
export type EventListQuery = Omit<z.input<typeof eventListQuerySchema>, 'limit' | 'cursor' | 'open'> & Paging & { open?: boolean };

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
