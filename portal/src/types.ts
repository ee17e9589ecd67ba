/** The API's shapes as the portal reads them: types only, from the API's own zod schemas. */
import type { z } from 'zod';
import type {
  apiKeySchema,
  AttemptView,
  ingestLogEntrySchema,
  EventDetail,
  EventTypeView,
  HeraldEvent,
  meSchema,
  Overview,
  Scope,
  SubscriptionHealth,
  subscriptionSchema,
} from '../../src/domain/schemas';

export type Me = z.infer<typeof meSchema>;
export type Subscription = z.infer<typeof subscriptionSchema>;
export type ApiKey = z.infer<typeof apiKeySchema>;
export type IngestLogEntry = z.infer<typeof ingestLogEntrySchema>;
/** `GET /v1/events/{id}`, by the name the client library gives it. */
export type EventView = EventDetail;
export type ListedEvent = HeraldEvent & { status: EventView['status'] };
export type { AttemptView, EventTypeView, HeraldEvent, Overview, Scope, SubscriptionHealth };
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
