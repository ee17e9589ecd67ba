import type { AttemptView, DeliveryView, EventTypeView } from '../domain/schemas';
import { channelOf } from '../channels';
import type { ApiKeyDoc, AttemptDoc, AttemptedDelivery, EventTypeDoc, IngestLogDoc, SubscriptionDoc } from '../store';
import { filterOf } from '../store/subscriptions';

/**
 * What the public surface shows of each stored document: the API's answers, Herald's own
 * events (`herald.subscription.*`, `herald.api_key.*`) and the workflow's `status` query all
 * present documents through these, so a field is redacted or renamed in one place.
 */

export function deliveryView(doc: AttemptedDelivery): DeliveryView {
  return {
    subscriptionId: doc.subscriptionId,
    channel: doc.channel,
    status: doc.status,
    attempts: doc.attempts,
    lastAttemptAt: doc.lastAttemptAt?.toISOString() ?? null,
    // FerretDB drops null fields written by upserts, so absent reads as null.
    lastResponseStatus: doc.lastResponseStatus ?? null,
    nextAttemptAt: doc.nextAttemptAt?.toISOString() ?? null,
    error: doc.error ?? null,
    messageId: doc.messageId,
    workflowId: doc.workflowId,
    actions: doc.actions ?? [],
  };
}

export function attemptView(doc: AttemptDoc): AttemptView {
  return {
    subscriptionId: doc.subscriptionId,
    attempt: doc.attempt,
    startedAt: doc.startedAt.toISOString(),
    durationMs: doc.durationMs,
    request: doc.request,
    response: doc.response ?? null,
    error: doc.error ?? null,
    traceId: doc.traceId ?? null,
  };
}

export function subscriptionView(doc: SubscriptionDoc) {
  const filter = filterOf(doc);
  return {
    id: doc._id,
    ...(doc.name !== undefined && { name: doc.name }),
    eventTypes: doc.eventTypes,
    ...(filter !== undefined && { filter }),
    channel: doc.channel,
    ...channelOf(doc).view(),
    ...(doc.digest !== undefined && { digest: doc.digest }),
    ...(doc.retry !== undefined && { retry: doc.retry }),
    timeoutMs: doc.timeoutMs,
    ...(doc.rateLimitPerSecond !== undefined && { rateLimitPerSecond: doc.rateLimitPerSecond }),
    active: doc.active,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    ...(doc.disabledAt && { disabledAt: doc.disabledAt.toISOString() }),
    ...(doc.disabledReason && { disabledReason: doc.disabledReason }),
  };
}

/** What the API shows of a key: never the key or its hash. */
export function apiKeyView(doc: ApiKeyDoc) {
  return {
    id: doc._id,
    name: doc.name,
    tenant: doc.tenant,
    scopes: doc.scopes,
    prefix: doc.prefix,
    createdAt: doc.createdAt.toISOString(),
    revokedAt: doc.revokedAt?.toISOString() ?? null,
    expiresAt: doc.expiresAt?.toISOString() ?? null,
    ...(doc.subjects && { subjects: doc.subjects }),
    ...(doc.eventTypes && { eventTypes: doc.eventTypes }),
  };
}

export function ingestLogView(doc: IngestLogDoc) {
  let problem: unknown = doc.problem;
  try {
    problem = JSON.parse(doc.problem);
  } catch {
    // kept as text: the answer was not JSON
  }
  const { _id, tenant: _tenant, at, eventIds, ...rest } = doc;
  return { id: _id, at: at.toISOString(), ...rest, problem, eventIds: eventIds ?? [] };
}

export function eventTypeView(doc: EventTypeDoc): EventTypeView {
  return {
    type: doc.type,
    description: doc.description,
    ...(doc.schemaJson && { schema: JSON.parse(doc.schemaJson) as Record<string, unknown> }),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}
