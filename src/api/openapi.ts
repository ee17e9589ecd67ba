import { z } from 'zod';
import {
  acceptedBatchSchema,
  acceptedLaterBatchSchema,
  acceptedEventSchema,
  apiKeyCreateSchema,
  apiKeySchema,
  attemptViewSchema,
  deliveryControlSchema,
  deliveryViewSchema,
  eventInputSchema,
  eventExportQuerySchema,
  eventListItemSchema,
  eventListQuerySchema,
  eventSchema,
  eventTypePutSchema,
  eventTypeViewSchema,
  eventDetailSchema,
  ingestLogEntrySchema,
  ingestLogQuerySchema,
  listQuerySchema,
  previewResultSchema,
  previewSchema,
  meSchema,
  overviewSchema,
  problemSchema,
  purgeSchema,
  recoverSchema,
  rotateSecretSchema,
  signalledWorkflowsSchema,
  startedWorkflowSchema,
  subscriptionCreateSchema,
  subscriptionPatchSchema,
  subjectEventsQuerySchema,
  subscriptionHealthSchema,
  subscriptionSchema,
  subscriptionTestResultSchema,
  treeQuerySchema,
} from '../domain/schemas';
import type { EventTypeView } from '../domain/schemas';
import { mqttTargetSchema, natsTargetSchema, rabbitmqTargetSchema, redisTargetSchema } from '../domain/broker-targets';
import { portalSessionCreateSchema, portalSessionSchema, tenantSettingsPatchSchema, tenantSettingsSchema } from '../domain/portal-sessions';
import { VERSION } from '../version';

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */

const components = {
  EventInput: eventInputSchema,
  Event: eventSchema,
  AcceptedEvent: acceptedEventSchema,
  AcceptedBatch: acceptedBatchSchema,
  AcceptedLaterBatch: acceptedLaterBatchSchema,
  EventListItem: eventListItemSchema,
  EventView: eventDetailSchema, // the published name of `GET /v1/events/{id}`'s answer
  Attempt: attemptViewSchema,
  SubscriptionCreate: subscriptionCreateSchema,
  SubscriptionPatch: subscriptionPatchSchema,
  Subscription: subscriptionSchema,
  Problem: problemSchema,
  Delivery: deliveryViewSchema,
  DeliveryControl: deliveryControlSchema,
  RotateSecret: rotateSecretSchema,
  Recover: recoverSchema,
  SignalledWorkflows: signalledWorkflowsSchema,
  StartedWorkflow: startedWorkflowSchema,
  SubscriptionTestResult: subscriptionTestResultSchema,
  Preview: previewSchema,
  PreviewResult: previewResultSchema,
  ApiKeyCreate: apiKeyCreateSchema,
  ApiKey: apiKeySchema,
  Me: meSchema,
  SubscriptionHealth: subscriptionHealthSchema,
  Overview: overviewSchema,
  EventTypePut: eventTypePutSchema,
  EventType: eventTypeViewSchema,
  IngestLogEntry: ingestLogEntrySchema,
  Purge: purgeSchema,
  RabbitmqTarget: rabbitmqTargetSchema,
  NatsTarget: natsTargetSchema,
  RedisTarget: redisTargetSchema,
  MqttTarget: mqttTargetSchema,
  PortalSessionCreate: portalSessionCreateSchema,
  PortalSession: portalSessionSchema,
  TenantSettings: tenantSettingsSchema,
  TenantSettingsPatch: tenantSettingsPatchSchema,
};

/** The broker channels' `target`, by channel: docs/api.md section 7. */
const BROKER_TARGETS = ['RabbitmqTarget', 'NatsTarget', 'RedisTarget', 'MqttTarget'] as const;

const ref = (name: keyof typeof components) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const problems = {
  '400': { description: 'Invalid request', content: { 'application/problem+json': { schema: ref('Problem') } } },
  '401': {
    description: 'Missing, unknown or revoked API key; an expired one answers a problem whose type ends in /key-expired',
    content: { 'application/problem+json': { schema: ref('Problem') } },
  },
  '429': {
    description: 'Over the per-key ingestion rate; retry after Retry-After',
    content: { 'application/problem+json': { schema: ref('Problem') } },
  },
  '403': {
    description:
      'The key lacks the scope; or, for a key limited to resources, the event is outside its limits (errors name type or subject; in a batch events.{i}.type or events.{i}.subject, and nothing of it is accepted)',
    content: { 'application/problem+json': { schema: ref('Problem') } },
  },
  '404': {
    description: "Not found in this tenant, or outside a limited key's limits",
    content: { 'application/problem+json': { schema: ref('Problem') } },
  },
};
const list = (item: keyof typeof components) => ({
  type: 'object',
  properties: { data: { type: 'array', items: ref(item) }, nextCursor: { type: ['string', 'null'] } },
  required: ['data', 'nextCursor'],
});

function queryParameters(schema: z.ZodObject) {
  const js = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, object> };
  return Object.entries(js.properties).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
}
const workflowIds = ref('SignalledWorkflows');
const workflowIdBody = ref('StartedWorkflow');
const unavailable = {
  description: "Temporal unavailable, or its namespace lacks Herald's search attributes (the detail says which); retry after Retry-After",
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const purged = {
  type: 'object',
  properties: { purged: { type: 'integer' }, recordId: { type: 'string' } },
  required: ['purged', 'recordId'],
};
const typeParam = { name: 'type', in: 'path', required: true, schema: { type: 'string' } };

/** What a subscriber receives for one registered type (docs/api.md section 4), `data` held to its schema. */
function webhookOf(t: EventTypeView) {
  return {
    post: {
      summary: t.type,
      description: t.description,
      requestBody: json({
        type: 'object',
        properties: {
          id: { type: 'string' },
          type: { const: t.type },
          timestamp: { type: 'string', format: 'date-time' },
          data: t.schema ?? { type: 'object' },
          subject: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' } } },
          actor: { type: 'string' },
          correlationId: { type: 'string' },
        },
        required: ['id', 'type', 'timestamp', 'data'],
      }),
      responses: { '2XX': { description: 'Received; any other answer is retried on the schedule' } },
    },
  };
}

/**
 * The document; with a tenant's event-type registry, each type is also listed under
 * `webhooks` (OpenAPI 3.1) with the payload a subscriber receives.
 */
export function openApiDocument(eventTypes?: EventTypeView[]) {
  const schemas = Object.fromEntries(
    Object.entries(components).map(([name, schema]) => [name, z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })]),
  ) as Record<string, { properties?: Record<string, { description?: string }> }>;
  // `target`'s shape depends on `channel`, so the schemas check it beside the channel; the
  // document names the four shapes it may take.
  for (const name of ['SubscriptionCreate', 'SubscriptionPatch']) {
    const properties = schemas[name].properties!;
    properties.target = { description: properties.target.description, oneOf: BROKER_TARGETS.map(ref) } as never;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Herald', version: VERSION, description: 'Durable notification and webhook delivery on Temporal.' },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        portalSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'herald_portal',
          description:
            'A portal session (set by GET /portal/s/{token}), with the header "x-herald-portal: session": only its subscriptions\' routes, its events\' deliveries and GET /v1/me; anything else answers 403 or 404',
        },
      },
    },
    security: [{ bearer: [] }, { portalSession: [] }],
    ...(eventTypes && { webhooks: Object.fromEntries(eventTypes.map((t) => [t.type, webhookOf(t)])) }),
    paths: {
      '/v1/events': {
        post: {
          summary: 'Ingest one event, or a batch of 1-500 as {"events": [...]}',
          description:
            "Types `herald` and `herald.*`, ids starting with `herald:` or `digest:`, and the id `export` are refused (400): Herald's own events have them, and GET /v1/events/export is the export. A batch sent with `Prefer: respond-async` is accepted once one workflow holding it has started (answered with `Preference-Applied: respond-async` and an AcceptedLaterBatch); a tenant has at most 16 such batches starting, and past them the answer is 503 with Retry-After.",
          parameters: [
            {
              name: 'Prefer',
              in: 'header',
              required: false,
              description:
                "`respond-async` (RFC 7240): a batch is answered once one workflow holding it has started, not once each event's has; ignored for a single event",
              schema: { type: 'string' },
            },
          ],
          requestBody: json({
            oneOf: [
              ref('EventInput'),
              {
                type: 'object',
                properties: { events: { type: 'array', items: ref('EventInput'), minItems: 1, maxItems: 500 } },
                required: ['events'],
              },
            ],
          }),
          responses: {
            '202': {
              description: "Accepted: the workflow has started (with `Prefer: respond-async`, the batch's workflow)",
              ...json({ oneOf: [ref('AcceptedEvent'), ref('AcceptedBatch'), ref('AcceptedLaterBatch')] }),
            },
            '413': { description: 'Body over 256 KiB' },
            '503': unavailable,
            ...problems,
          },
        },
        get: {
          summary: 'List events, newest first',
          parameters: queryParameters(eventListQuerySchema),
          responses: { '200': { description: 'A page', ...json(list('EventListItem')) }, ...problems },
        },
      },
      '/v1/events/export': {
        get: {
          summary:
            'The audit as NDJSON, oldest first, one event per line (with `status`, and `deliveries` / `attempts` when included); streamed, so any size runs in constant memory. An event whose id is "export" is read through the list.',
          parameters: queryParameters(eventExportQuerySchema),
          responses: { '200': { description: 'application/x-ndjson: one Event per line' }, ...problems },
        },
      },
      '/v1/event-types': {
        get: {
          summary: 'The event-type registry, newest first',
          parameters: queryParameters(listQuerySchema),
          responses: { '200': { description: 'A page', ...json(list('EventType')) }, ...problems },
        },
      },
      '/v1/event-types/{type}': {
        put: {
          summary:
            'Describe an event type (scope events:write); with a JSON Schema, ingestion refuses events of this type whose `data` fails it (400, paths under `data`)',
          parameters: [typeParam],
          requestBody: json(ref('EventTypePut')),
          responses: {
            '200': { description: 'Replaced', ...json(ref('EventType')) },
            '201': { description: 'Created', ...json(ref('EventType')) },
            ...problems,
          },
        },
        get: {
          summary: 'One registered event type',
          parameters: [typeParam],
          responses: { '200': { description: 'The type', ...json(ref('EventType')) }, ...problems },
        },
        delete: {
          summary: 'Remove a type from the registry: its events are no longer validated',
          parameters: [typeParam],
          responses: { '204': { description: 'Removed' }, ...problems },
        },
      },
      '/v1/openapi.json': {
        get: {
          summary: "This document with the key's tenant's registered event types under `webhooks`",
          responses: { '200': { description: 'OpenAPI 3.1' }, ...problems },
        },
      },
      '/v1/events/{id}': {
        get: {
          summary: 'An event with its deliveries, and the subscriptions whose filter it failed',
          parameters: [idParam],
          // 503: an event accepted and not yet recorded is read from Temporal.
          responses: { '200': { description: 'The event', ...json(ref('EventView')) }, '503': unavailable, ...problems },
        },
        delete: {
          summary:
            'Purge one event with its deliveries and attempts, cancelling deliveries still running (admin key or scope events:purge); recorded as a `herald.events.purged` event',
          parameters: [idParam],
          responses: {
            '200': { description: 'Removed', ...json(purged) },
            '409': { description: 'The record of a purge cannot be purged' },
            '503': unavailable,
            ...problems,
          },
        },
      },
      '/v1/events/purge': {
        post: {
          summary:
            'Purge the events of one selection (a correlationId; a subject; or since + until with an optional type) with their deliveries and attempts, cancelling deliveries still running, in batches of 200 (admin key or scope events:purge); recorded as a `herald.events.purged` event, which no purge removes',
          requestBody: json(ref('Purge')),
          responses: {
            '200': { description: 'How many events were removed, and the id of the purge record', ...json(purged) },
            '503': unavailable,
            ...problems,
          },
        },
      },
      '/v1/ingest-log': {
        get: {
          summary:
            "The tenant's ingestion requests, accepted (202, with their events' ids) and refused (4xx other than 401, and 5xx), newest first, kept HERALD_INGEST_LOG_DAYS days (scope events:read)",
          parameters: queryParameters(ingestLogQuerySchema),
          responses: { '200': { description: 'A page', ...json(list('IngestLogEntry')) }, ...problems },
        },
      },
      '/v1/events/{id}/attempts': {
        get: {
          summary: 'Every delivery attempt of an event',
          parameters: [idParam],
          responses: { '200': { description: 'Attempts', ...json(list('Attempt')) }, '503': unavailable, ...problems },
        },
      },
      '/v1/events/{id}/cancel': {
        post: {
          summary:
            'Cancel the deliveries not yet final (one subscription or all); an attempt in flight is aborted. Same as the `cancel` signal.',
          parameters: [idParam],
          requestBody: json(ref('DeliveryControl')),
          responses: { '202': { description: 'Signalled', ...json(workflowIds) }, '503': unavailable, ...problems },
        },
      },
      '/v1/events/{id}/retry': {
        post: {
          summary:
            'Attempt waiting deliveries now; give failed ones a fresh run of the schedule (a closed workflow gets a new run). Same as the `retry` signal.',
          parameters: [idParam],
          requestBody: json(ref('DeliveryControl')),
          responses: { '202': { description: 'Signalled', ...json(workflowIds) }, '503': unavailable, ...problems },
        },
      },
      '/v1/events/{id}/replay': {
        post: {
          summary: 'Deliver the stored event again, as new messages, to what matches now or to one subscription',
          parameters: [idParam],
          requestBody: json(ref('DeliveryControl')),
          responses: {
            '202': { description: 'Started `event/{tenant}/{id}/replay/{n}`', ...json(workflowIdBody) },
            '503': unavailable,
            ...problems,
          },
        },
      },
      '/v1/events/{id}/tree': {
        get: {
          summary:
            "The event's ancestors (root first) and descendants by parentId, `depth` levels each (default 5, at most 10; 1,000 nodes at most)",
          parameters: [idParam, ...queryParameters(treeQuerySchema)],
          responses: {
            '200': { description: '{ancestors, event, descendants: [{event, children}], truncated}' },
            '503': unavailable,
            ...problems,
          },
        },
      },
      '/v1/subjects/{type}/{id}/events': {
        get: {
          summary: 'Everything that happened to one resource, newest first, each event with its delivery outcomes counted',
          parameters: [
            { name: 'type', in: 'path', required: true, schema: { type: 'string' } },
            idParam,
            ...queryParameters(subjectEventsQuerySchema),
          ],
          responses: { '200': { description: 'A page of events with `deliveries: {total, succeeded?, failed?, …}`' }, ...problems },
        },
      },
      '/v1/subscriptions': {
        post: {
          summary: 'Create a subscription; the answer holds its secret',
          requestBody: json(ref('SubscriptionCreate')),
          responses: {
            '201': { description: 'Created', ...json(ref('Subscription')) },
            '409': { description: 'The tenant has HERALD_MAX_SUBSCRIPTIONS subscriptions already' },
            ...problems,
          },
        },
        get: {
          summary: 'List subscriptions',
          parameters: queryParameters(listQuerySchema),
          responses: { '200': { description: 'A page', ...json(list('Subscription')) }, ...problems },
        },
      },
      '/v1/subscriptions/{id}': {
        get: {
          summary: 'A subscription',
          parameters: [idParam],
          responses: { '200': { description: 'The subscription', ...json(ref('Subscription')) }, ...problems },
        },
        patch: {
          summary: 'Change a subscription',
          parameters: [idParam],
          requestBody: json(ref('SubscriptionPatch')),
          responses: { '200': { description: 'Updated', ...json(ref('Subscription')) }, ...problems },
        },
        delete: { summary: 'Delete a subscription', parameters: [idParam], responses: { '204': { description: 'Deleted' }, ...problems } },
      },
      '/v1/subscriptions/{id}/health': {
        get: {
          summary: 'Health over the last 24 hours: deliveries by status, success rate, the last error and why it was disabled',
          parameters: [idParam],
          responses: { '200': { description: 'Health', ...json(ref('SubscriptionHealth')) }, ...problems },
        },
      },
      '/v1/subscriptions/{id}/rotate-secret': {
        post: {
          summary: 'Replace the signing secret; the old one keeps signing beside it for 24 h',
          parameters: [idParam],
          requestBody: json(ref('RotateSecret')),
          responses: { '200': { description: 'The subscription with its new secret', ...json(ref('Subscription')) }, ...problems },
        },
      },
      '/v1/subscriptions/{id}/test': {
        post: {
          summary: 'Send a `herald.ping` to this subscription only (one attempt) and answer its outcome',
          parameters: [idParam],
          responses: {
            '200': {
              description: 'The attempt finished',
              ...json(ref('SubscriptionTestResult')),
            },
            '202': { description: 'Still running after the subscription timeout plus 10 s', ...json(ref('SubscriptionTestResult')) },
            '503': unavailable,
            ...problems,
          },
        },
      },
      '/v1/subscriptions/{id}/preview': {
        post: {
          summary:
            'Render what this subscription would be sent for an event, without sending or storing anything: an email subscription answers subject, text and html; a webhook or broker one the JSON body (for a slack, discord or teams format, the service’s message). A digest subscription renders a digest of this one event. Scope subscriptions:read.',
          parameters: [idParam],
          requestBody: json(ref('Preview')),
          responses: { '200': { description: 'The rendered message', ...json(ref('PreviewResult')) }, ...problems },
        },
      },
      '/v1/subscriptions/{id}/recover': {
        post: {
          summary: 'Redeliver the failed deliveries opened in [since, until] (until defaults to now), in bounded batches',
          parameters: [idParam],
          requestBody: json(ref('Recover')),
          responses: {
            '202': { description: 'Started the `recoverDeliveries` workflow', ...json(workflowIdBody) },
            '503': unavailable,
            ...problems,
          },
        },
      },
      '/v1/api-keys': {
        post: {
          summary:
            'Create an API key (admin key only), optionally expiring (expiresAt) and limited to resources (subjects, eventTypes); the answer holds the key, shown once',
          requestBody: json(ref('ApiKeyCreate')),
          responses: { '201': { description: 'Created', ...json(ref('ApiKey')) }, ...problems },
        },
        get: {
          summary: 'List API keys (admin key only), without the keys',
          parameters: queryParameters(listQuerySchema),
          responses: { '200': { description: 'A page', ...json(list('ApiKey')) }, ...problems },
        },
      },
      '/v1/api-keys/{id}': {
        delete: {
          summary: 'Revoke an API key (admin key only): 401 from its next request on',
          parameters: [idParam],
          responses: { '204': { description: 'Revoked' }, ...problems },
        },
      },
      '/v1/me': {
        get: {
          summary: 'The calling key: its tenant, scopes, whether it is the admin key, and where the Temporal Web UI is',
          responses: { '200': { description: 'The key', ...json(ref('Me')) }, ...problems },
        },
      },
      '/v1/portal-sessions': {
        post: {
          summary:
            'A one-time link to the portal limited to some subscriptions (scope subscriptions:write): it signs its visitor in with an HttpOnly cookie and does not work twice',
          requestBody: json(ref('PortalSessionCreate')),
          responses: { '201': { description: 'Created', ...json(ref('PortalSession')) }, ...problems },
        },
      },
      '/v1/settings': {
        get: {
          summary: "The tenant's settings: the origins that may frame its portal sessions (scope subscriptions:read)",
          responses: { '200': { description: 'The settings', ...json(ref('TenantSettings')) }, ...problems },
        },
        patch: {
          summary: "Change the tenant's settings (scope subscriptions:write)",
          requestBody: json(ref('TenantSettingsPatch')),
          responses: { '200': { description: 'The settings', ...json(ref('TenantSettings')) }, ...problems },
        },
      },
      '/v1/stats/overview': {
        get: {
          summary: "The tenant's last 24 hours: events and deliveries per hour, and the subscriptions failing most (scope events:read)",
          responses: { '200': { description: 'The overview', ...json(ref('Overview')) }, ...problems },
        },
      },
      '/portal/': {
        get: {
          summary: 'The portal: a web page to manage subscriptions and see every delivery (sign in with an API key)',
          security: [],
          responses: { '200': { description: 'HTML' } },
        },
      },
      '/portal/s/{token}': {
        get: {
          summary:
            "A portal session's link: the first visit sets the session cookie and redirects (303) to /portal/; any later one answers 410",
          security: [],
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '303': { description: 'Signed in: the cookie is set, and the portal opens at its clean URL' },
            '404': { description: 'Not a portal link' },
            '410': { description: 'The link was used already, or expired' },
          },
        },
      },
      '/healthz': { get: { summary: 'The process is up', security: [], responses: { '200': { description: 'Up' } } } },
      '/readyz': {
        get: {
          summary: 'Temporal and the store are reachable',
          security: [],
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'Metrics' } } } },
      '/openapi.json': {
        get: {
          summary: "This document, without any tenant's event types",
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1' } },
        },
      },
    },
  };
}
