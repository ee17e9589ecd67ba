import { setTimeout as sleep } from 'node:timers/promises';
import {
  Collection,
  Db,
  MongoClient,
  MongoNetworkError,
  MongoServerSelectionError,
  type Document,
  type Filter,
  type IndexDescription,
  type WithId,
} from 'mongodb';
import { mapConcurrent } from '../concurrency';
import type { MqttTargetInput, NatsTargetInput, RabbitmqTargetInput, RedisTargetInput } from '../domain/broker-targets';
import type { ChannelName, WebhookFormat } from '../domain/channels';
import type { ControlAction } from '../domain/schemas';
import type { DeliveryStatus, EventStatus } from '../domain/status';

/**
 * MongoDB collections and their indexes. Written to the subset that both MongoDB and
 * FerretDB support (no TTL indexes, $lookup, $facet, transactions or change streams).
 */

export interface EventDoc {
  _id: string; // `${tenant}/${id}`: the unique key that makes recording idempotent
  tenant: string;
  id: string;
  type: string;
  /**
   * The event's `data` as JSON text. Herald never queries inside it, and as text any JSON
   * object is stored as sent: MongoDB and FerretDB each refuse some documents (field names
   * with "$" or ".", arrays in arrays, NUL) that are valid JSON.
   */
  dataJson: string;
  subject?: { type: string; id: string };
  actor?: string;
  source?: string;
  parentId?: string;
  correlationId?: string;
  occurredAt: Date;
  receivedAt: Date;
  workflowId: string;
  /** The workflow run that recorded the event; a later run with the same id is a duplicate. */
  runId: string;
  status: EventStatus;
  /** How many replays were started: numbers the replay workflows `…/replay/{n}`. */
  replays?: number;
  /** The batch accepted with `Prefer: respond-async` that started the event's workflow; its history holds the event too. */
  batch?: { workflowId: string; runId: string };
  /**
   * While the first attempts of deliveries whose opening was deferred to them may be sending:
   * their claim (see `claimDelivery`), written with the event, since those deliveries are not
   * stored yet. A purge waits for it as for a delivery's.
   */
  claimedUntil?: Date;
  /** The id of a `*.completed` / `*.failed` event whose parent this event is: it was closed. */
  closedBy?: string;
  /**
   * The active subscriptions whose event types matched but whose filter did not, when the
   * event's own run recorded it (in the same insert); absent when there were none.
   */
  filteredOut?: string[];
  /** Until when a digest may still read the event (its window, then its delivery): retention keeps it until then. */
  heldByDigestsUntil?: Date;
}

/**
 * What others have marked on an event, keyed by its `_id`, so that the event's opening reads
 * both marks with one read by `_id` on every store backend:
 * - `closedBy`: the closing event that closed it. Its closer writes it, recorded before or after
 *   the event itself; the event finds it when recorded.
 * - `purgeMarkedAt`: a purge is removing the event. Written by the purge before it stops the
 *   event's runs, and removed with the document once the event is gone. Never on the event's own
 *   document: the run the mark fences writes that one.
 * Each writer updates one mark by the document's `_id`, which the store applies atomically (as
 * docs/operations.md says of FerretDB), so neither mark's update loses the other's. The document
 * goes with its event, a purge's mark only once the event is gone (`deleteEventsWithAudit`).
 * The collection keeps its first name, `closures`, from when it held the first mark only.
 */
export interface EventMarksDoc {
  _id: string; // the event's `${tenant}/${id}`
  closedBy?: string;
  purgeMarkedAt?: Date;
}

export interface SubscriptionSecret {
  /** Sealed with HERALD_ENCRYPTION_KEY (src/security/secret-box.ts), never stored in clear. */
  value: string;
  /** Set on the previous secret by a rotation: it keeps signing until then. */
  expiresAt?: Date;
}

/** Where a webhook subscription posts. */
export interface WebhookTarget {
  channel: 'webhook';
  url: string;
  /** Values of credential-like headers are sealed like the secrets. */
  headers?: Record<string, string>;
  /** The body's format; absent means `standard` (src/domain/chat-formats.ts). */
  format?: WebhookFormat;
  /** Mustache template of a chat format's text. */
  template?: string;
}

/** Where an email subscription sends, with Mustache templates of the subject and the two parts (src/domain/templates.ts). */
export interface EmailTarget {
  channel: 'email';
  to: string[];
  subject?: string;
  body?: string;
  html?: string;
}

/**
 * A broker's URL as stored: shown with its credentials as `***` (src/domain/broker-targets.ts),
 * and, when it has credentials, sealed whole beside it like the signing secrets.
 */
export interface StoredBrokerUrl {
  url: string;
  sealedUrl?: string;
}

/** Where a broker subscription publishes (docs/api.md section 7), in one `target` field. */
interface BrokerTargetOf<C extends string, Input extends { url: string }> {
  channel: C;
  target: Omit<Input, 'url'> & StoredBrokerUrl;
}
export type RabbitmqTarget = BrokerTargetOf<'rabbitmq', RabbitmqTargetInput>;
export type NatsTarget = BrokerTargetOf<'nats', NatsTargetInput>;
export type RedisTarget = BrokerTargetOf<'redis', RedisTargetInput>;
export type MqttTarget = BrokerTargetOf<'mqtt', MqttTargetInput>;
export type BrokerTarget = RabbitmqTarget | NatsTarget | RedisTarget | MqttTarget;

/** A subscription's target, by channel: stored beside the subscription's other fields. */
export type SubscriptionTarget = WebhookTarget | EmailTarget | BrokerTarget;

interface SubscriptionFields {
  _id: string;
  tenant: string;
  name?: string;
  eventTypes: string[];
  /** The filter (src/domain/filter.ts) as JSON text: its operators (`$eq`) and paths (`data.a`) are not valid field names. */
  filterJson?: string;
  /** Matching events are collected by a digest workflow and sent together (src/workflows/collect-digest.ts). */
  digest?: { every: string; maxEvents?: number };
  secrets: SubscriptionSecret[];
  retry?: { schedule?: string[]; maxAttempts?: number };
  timeoutMs: number;
  rateLimitPerSecond?: number;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
  disabledAt?: Date;
  disabledReason?: string;
  /** The first failed attempt since the last success: `HERALD_DISABLE_AFTER` counts from it. */
  failingSince?: Date;
}

export type SubscriptionDoc = SubscriptionFields & SubscriptionTarget;

export interface DeliveryDoc {
  _id: string; // `${workflowId}|${subscriptionId}`: one delivery per run and subscription
  tenant: string;
  eventId: string;
  workflowId: string;
  subscriptionId: string;
  channel: ChannelName;
  /** The `webhook-id`: the same on every retry of this delivery, new on a replay. */
  messageId: string;
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: Date | null;
  lastResponseStatus: number | null;
  nextAttemptAt: Date | null;
  error: string | null;
  /** Attempts made before the current run of the schedule: a retry of a failed delivery restarts it. */
  scheduleBase?: number;
  /** Cancel and retry requests, with who asked. */
  actions?: ControlAction[];
  /** The event is a digest (`herald.digest`): the message carries the events its data lists. */
  digest?: boolean;
  /**
   * Until when an attempt may be sending: set when the delivery is opened (for its first
   * attempt) or claimed by an attempt, cleared when an attempt records its outcome. A purge
   * waits for these to clear or lapse, so no request of a purged event starts after it answers.
   */
  claimedUntil?: Date;
  /**
   * The first attempt, when it stored the delivery (an opening deferred to it): kept here rather
   * than in `attempts`, so the two are one insert. Readers of an event's attempts take it from
   * here (`attemptsForEvent`, `auditOfEvents`).
   */
  firstAttempt?: AttemptDoc;
  createdAt: Date;
  updatedAt: Date;
}

/** A delivery as an attempt and its view use it: without the store's own bookkeeping. */
export type AttemptedDelivery = Omit<DeliveryDoc, 'claimedUntil' | 'firstAttempt' | 'createdAt' | 'updatedAt'>;

export interface AttemptDoc {
  _id: string; // `${deliveryId}#${attempt}`: listed once even when the activity is retried
  tenant: string;
  eventId: string;
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  /** Brokers add `destination`: the exchange and routing key, subject, stream or topic published to. */
  request: { url: string; headers: Record<string, string>; destination?: Record<string, string> };
  /** A broker's acknowledgement or refusal has no status: `{status: null, body}`. */
  response: { status: number | null; body: string } | null;
  error: string | null;
  /** The OpenTelemetry trace the attempt ran in; absent when the worker did not trace. */
  traceId?: string;
}

export interface ApiKeyDoc {
  _id: string; // `key_<ulid>`, also the visible part of the key itself
  name: string;
  tenant: string;
  scopes: string[];
  /** The start of the key, for people to recognise it by. */
  prefix: string;
  /** SHA-256 of the whole key (hex): the key is 256 random bits, so a fast hash suffices. */
  hash: string;
  createdAt: Date;
  revokedAt?: Date;
  /** From then on the key answers 401 (`key-expired`). */
  expiresAt?: Date;
  /** When `herald.api_key.expired` was emitted: later requests with the key do not emit it again. */
  expiryAnnouncedAt?: Date;
  /** Resource limits (src/domain/key-limits.ts); absent: the whole tenant. */
  subjects?: { type: string; id?: string }[];
  eventTypes?: string[];
}

/**
 * Counters per tenant, each raised after every change to what readers cache: its subscriptions
 * (workers match events against them in memory), its event-type registry (the API validates
 * events against it) and its API keys' revocations (the API keeps keys in memory). Kept in one
 * document, so the API reads all three with one read by `_id` (shared by the requests of
 * TENANT_VERSIONS_MAX_AGE_MS) and hands the subscriptions counter to the event's workflow: a
 * worker whose cache is at least that new matches the event without reading the counter again.
 */
export interface TenantVersionsDoc {
  _id: string; // the tenant
  subscriptions?: number;
  eventTypes?: number;
  apiKeys?: number;
}

export type TenantVersions = Required<Omit<TenantVersionsDoc, '_id'>>;

/**
 * How old a read of a tenant's counters the API may answer a request with, counted from when the
 * read was asked for: a raise returns only this long after its write (`bumpTenantVersion`), so
 * any request sent once a change was answered meets a read that started after the change, while
 * a busy tenant's requests share one read per interval instead of one each.
 */
export const TENANT_VERSIONS_MAX_AGE_MS = 50;

/**
 * Raised after each change that readers cache. After, not before: a reader takes the version
 * first and the documents second, so whatever it caches under a version is at least as new as
 * that version. Returns TENANT_VERSIONS_MAX_AGE_MS after the write, when no API process
 * answers from a read of the counters made before it any more: the API's changes answer only
 * then, and the worker's own raises (a failing streak begun or ended, an automatic disable) wait
 * the same, as their callers need no answer sooner.
 */
export async function bumpTenantVersion(store: Store, tenant: string, counter: keyof TenantVersions): Promise<void> {
  await upsertRetryingRace(() => store.tenantVersions.updateOne({ _id: tenant }, { $inc: { [counter]: 1 } }, { upsert: true }));
  // A millisecond more: Node's timers count whole milliseconds and may end up to one early.
  await sleep(TENANT_VERSIONS_MAX_AGE_MS + 1);
}

/**
 * Runs an upsert by `_id` again when it lost a race: two upserts of a document that does not
 * exist yet may both insert it, and the later one fails with a duplicate key. MongoDB retries
 * such an upsert itself; FerretDB answers the error, which made concurrent first writes of a
 * tenant answer 500. Run again, the upsert finds the document and updates it.
 */
export async function upsertRetryingRace<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await upsert();
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    return upsert();
  }
}

export async function tenantVersions(store: Store, tenant: string): Promise<TenantVersions> {
  const doc = await store.tenantVersions.findOne({ _id: tenant });
  return { subscriptions: doc?.subscriptions ?? 0, eventTypes: doc?.eventTypes ?? 0, apiKeys: doc?.apiKeys ?? 0 };
}

/**
 * An ingestion request: refused, with what was sent (the first 16 KiB, never the key) and what
 * was answered; accepted, with the ids of its events (their audit holds what was sent).
 */
export interface IngestLogDoc {
  _id: string; // `ing_<ulid>`
  tenant: string;
  keyId: string;
  at: Date;
  method: string;
  route: string;
  status: number;
  /** The answer as sent: problem+json, or the batch's per-item results. */
  problem: string;
  body: string;
  bodyBytes: number;
  truncated: boolean;
  /** The events the request started (or found already accepted); absent when none. */
  eventIds?: string[];
}

/** A JSON Schema is kept as text: its keywords (`$ref`, `$schema`) are not valid field names. */
export interface EventTypeDoc {
  _id: string; // `${tenant}/${type}`
  tenant: string;
  type: string;
  description: string;
  schemaJson?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A portal session (src/api/portal-sessions.ts): its one-time link, then the visitor's cookie. */
export interface PortalSessionDoc {
  _id: string; // `ps_<ulid>`, also the visible part of the link and of the cookie
  tenant: string;
  /** The key that made the link. */
  createdBy: string;
  subscriptionIds?: string[];
  eventTypes?: string[];
  readOnly: boolean;
  createdAt: Date;
  expiresAt: Date;
  /** SHA-256 of the whole link token (hex). */
  linkHash: string;
  /** Set once the link is redeemed (see PortalRedemptionDoc); the cookie's hash with it. */
  redeemedAt?: Date;
  cookieHash?: string;
}

/**
 * A portal session's link was spent: inserted with the session's `_id`, so of two visits
 * racing with one link only one insert succeeds, on every store. Not a conditional update of
 * the session: FerretDB applies an update by reading the document and writing it back, and
 * three of six racing visits each found `redeemedAt` unset and got a session.
 */
export interface PortalRedemptionDoc {
  _id: string; // the session's
  at: Date;
}

/** A tenant's settings, one document each; a tenant without one has the defaults. */
export interface TenantSettingsDoc {
  _id: string; // the tenant
  portalFrameAncestors?: string[];
  updatedAt: Date;
}

export interface Store {
  client: MongoClient;
  db: Db;
  events: Collection<EventDoc>;
  eventMarks: Collection<EventMarksDoc>;
  subscriptions: Collection<SubscriptionDoc>;
  deliveries: Collection<DeliveryDoc>;
  attempts: Collection<AttemptDoc>;
  apiKeys: Collection<ApiKeyDoc>;
  tenantVersions: Collection<TenantVersionsDoc>;
  eventTypes: Collection<EventTypeDoc>;
  ingestLog: Collection<IngestLogDoc>;
  portalSessions: Collection<PortalSessionDoc>;
  portalRedemptions: Collection<PortalRedemptionDoc>;
  tenantSettings: Collection<TenantSettingsDoc>;
}

export async function connectStore(url: string): Promise<Store> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, maxPoolSize: 10 });
  await client.connect();
  const db = client.db();
  return {
    client,
    db,
    events: db.collection<EventDoc>('events'),
    eventMarks: db.collection<EventMarksDoc>('closures'),
    subscriptions: db.collection<SubscriptionDoc>('subscriptions'),
    deliveries: db.collection<DeliveryDoc>('deliveries'),
    attempts: db.collection<AttemptDoc>('attempts'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    tenantVersions: db.collection<TenantVersionsDoc>('tenant_versions'),
    eventTypes: db.collection<EventTypeDoc>('event_types'),
    ingestLog: db.collection<IngestLogDoc>('ingest_log'),
    portalSessions: db.collection<PortalSessionDoc>('portal_sessions'),
    portalRedemptions: db.collection<PortalRedemptionDoc>('portal_redemptions'),
    tenantSettings: db.collection<TenantSettingsDoc>('tenant_settings'),
  };
}

const INDEXES: { [K in keyof Omit<Store, 'client' | 'db'>]: IndexDescription[] } = {
  events: [
    { key: { tenant: 1, id: 1 }, unique: true, name: 'tenant_id' },
    { key: { tenant: 1, occurredAt: -1, id: -1 }, name: 'tenant_time' },
    { key: { tenant: 1, type: 1, occurredAt: -1, id: -1 }, name: 'tenant_type_time' },
    { key: { tenant: 1, 'subject.type': 1, 'subject.id': 1, occurredAt: -1, id: -1 }, name: 'tenant_subject_time' },
    // A key limited to a subject type (any id): its pages in time order without sorting them.
    { key: { tenant: 1, 'subject.type': 1, occurredAt: -1, id: -1 }, name: 'tenant_subject_type_time' },
    { key: { tenant: 1, actor: 1, occurredAt: -1, id: -1 }, name: 'tenant_actor_time' },
    { key: { tenant: 1, correlationId: 1, occurredAt: -1, id: -1 }, name: 'tenant_correlation_time' },
    { key: { tenant: 1, status: 1, occurredAt: -1, id: -1 }, name: 'tenant_status_time' },
    { key: { occurredAt: 1 }, name: 'time' }, // retention
    { key: { tenant: 1, parentId: 1 }, name: 'tenant_parent' }, // causality trees
  ],
  eventMarks: [], // read by _id only
  subscriptions: [{ key: { tenant: 1, createdAt: -1, _id: -1 }, name: 'tenant_created' }],
  deliveries: [
    { key: { tenant: 1, eventId: 1 }, name: 'tenant_event' },
    { key: { subscriptionId: 1, status: 1, updatedAt: -1 }, name: 'subscription_status' },
    { key: { tenant: 1, subscriptionId: 1, status: 1, createdAt: 1, _id: 1 }, name: 'tenant_subscription_status_created' },
    { key: { workflowId: 1 }, name: 'workflow' },
    { key: { tenant: 1, createdAt: -1 }, name: 'tenant_created' }, // the portal's hourly counts
  ],
  attempts: [{ key: { tenant: 1, eventId: 1, startedAt: 1 }, name: 'tenant_event_time' }],
  apiKeys: [{ key: { createdAt: -1, _id: -1 }, name: 'created' }],
  tenantVersions: [], // read by _id only
  eventTypes: [{ key: { tenant: 1, createdAt: -1, type: -1 }, name: 'tenant_created' }],
  portalSessions: [], // read by _id only
  portalRedemptions: [], // inserted by _id only
  tenantSettings: [], // read by _id only
  ingestLog: [
    { key: { tenant: 1, at: -1, _id: -1 }, name: 'tenant_time' },
    { key: { tenant: 1, status: 1, at: -1, _id: -1 }, name: 'tenant_status_time' },
    { key: { tenant: 1, keyId: 1, at: -1, _id: -1 }, name: 'tenant_key_time' }, // a limited key's own refusals
    { key: { at: 1 }, name: 'time' }, // retention
  ],
};

/**
 * Idempotent: every process calls this at start. Each list filter has an index of its own.
 * Only missing indexes are created, one collection at a time with retries: FerretDB drops
 * the connection when asked to create a compound index next to an existing one of a
 * different width, and when two processes create the same collection at once.
 */
export async function ensureIndexes(store: Store): Promise<void> {
  for (const [name, indexes] of Object.entries(INDEXES) as [keyof typeof INDEXES, IndexDescription[]][]) {
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = new Set(
          (
            await store[name]
              .listIndexes()
              .toArray()
              .catch(() => [])
          ).map((i: { name?: string }) => i.name),
        );
        for (const index of indexes.filter((i) => !existing.has(i.name))) await store[name].createIndexes([index]);
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }
}

const LOOKUP_CONCURRENCY = 16;

/**
 * Documents by `_id`, one look-up each. FerretDB serves `{_id: x}` from its primary key
 * but reads the whole collection for `{_id: {$in: [...]}}`, so a few hundred point reads
 * are far cheaper there than one `$in`; on MongoDB both are index look-ups.
 */
export async function findByIds<T extends Document & { _id: string }>(
  collection: Collection<T>,
  ids: readonly string[],
): Promise<WithId<T>[]> {
  const found = await mapConcurrent([...new Set(ids)], LOOKUP_CONCURRENCY, (id) => collection.findOne({ _id: id } as Filter<T>));
  return found.filter((d): d is WithId<T> => d !== null);
}

/**
 * The write errors of an unordered `insertMany` of `items` documents by the index of the one
 * refused, when the error accounts for every document (inserted, or refused with its index);
 * null when it does not: then what became of the others is unknown, and the caller fails them
 * all. A connection lost during the command throws a bulk error with an empty list of write
 * errors and nothing counted as inserted, and taking its silence for success lost deliveries
 * in `make chaos` (a store restart during grouped inserts).
 */
export function writeErrorsByIndex(err: unknown, items: number): Map<number, { code?: unknown; errmsg?: string }> | null {
  const { writeErrors, insertedCount } = err as { writeErrors?: unknown; insertedCount?: unknown };
  if (!writeErrors || typeof insertedCount !== 'number') return null;
  const errors = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as Array<{ index: number; code?: unknown; errmsg?: string }>;
  const refused = new Map(errors.map((e) => [e.index, e]));
  return refused.size > 0 && refused.size + insertedCount === items ? refused : null;
}

/** An unordered `insertMany` of `items` documents failed only because some were there already. */
export function onlyDuplicateKeys(err: unknown, items: number): boolean {
  const refused = writeErrorsByIndex(err, items);
  return refused !== null && [...refused.values()].every(isDuplicateKeyError);
}

/** The store could not be reached (stopped, restarting, unreachable), as opposed to refusing a command. */
export function isStoreUnreachable(err: unknown): boolean {
  return err instanceof MongoNetworkError || err instanceof MongoServerSelectionError;
}

export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
