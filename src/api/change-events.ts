import { newEventId } from '../domain/ids';
import { ownEvent } from '../domain/own-events';
import type { HeraldEvent } from '../domain/schemas';
import type { ApiKeyDoc, SubscriptionDoc } from '../store';
import { apiKeyView, subscriptionView } from './views';

/**
 * The `herald.subscription.*` and `herald.api_key.*` events (docs/api.md section 6): what
 * changed, as the API shows it, announced by the API's routes and by the worker's auto-disable.
 */

export type SubscriptionChange = 'created' | 'updated' | 'deleted' | 'disabled';

/**
 * The event for one subscription change. The secret is never part of it. A disable is
 * named by the subscription and its `disabledAt`, so an activity that retries the emission
 * starts it only once.
 */
export function subscriptionChangeEvent(change: SubscriptionChange, doc: SubscriptionDoc, actor: string, at: Date): HeraldEvent {
  const id = change === 'disabled' && doc.disabledAt ? `herald:${doc._id}:disabled:${doc.disabledAt.getTime()}` : newEventId();
  return ownEvent({
    id,
    type: `herald.subscription.${change}`,
    data: {
      subscription: subscriptionView(doc),
      ...(change === 'disabled' && { reason: doc.disabledReason ?? null }),
    },
    subject: { type: 'subscription', id: doc._id },
    actor,
    occurredAt: at,
    receivedAt: new Date(),
  });
}

/**
 * `herald.api_key.created|revoked|expired`, in the key's tenant, so that tenant's subscribers
 * see it. Named by the key and the change, so each is started once however often it is asked.
 */
export function apiKeyChangeEvent(change: 'created' | 'revoked' | 'expired', doc: ApiKeyDoc, actor: string, at: Date): HeraldEvent {
  return ownEvent({
    id: `herald:${doc._id}:${change}`,
    type: `herald.api_key.${change}`,
    data: { apiKey: apiKeyView(doc) },
    subject: { type: 'api_key', id: doc._id },
    actor,
    occurredAt: at,
    receivedAt: new Date(),
  });
}
