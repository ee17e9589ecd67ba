import type { EventTypePut } from '../domain/schemas';
import { bumpTenantVersion, tenantVersions, upsertRetryingRace, type EventTypeDoc, type Store } from './index';
import { keysetPage, type Page } from './paging';

/** The event-type registry: what each type means and, optionally, the JSON Schema of its `data`. */

const key = (tenant: string, type: string) => `${tenant}/${type}`;

/** Creates or replaces a type's entry; answers whether it was new. */
export async function putEventType(
  store: Store,
  tenant: string,
  type: string,
  input: EventTypePut,
  now: Date,
): Promise<{ doc: EventTypeDoc; created: boolean }> {
  const result = await upsertRetryingRace(() =>
    store.eventTypes.findOneAndUpdate(
      { _id: key(tenant, type) },
      {
        $set: { description: input.description, updatedAt: now, ...(input.schema && { schemaJson: JSON.stringify(input.schema) }) },
        ...(!input.schema && { $unset: { schemaJson: '' } }),
        $setOnInsert: { tenant, type, createdAt: now },
      },
      { upsert: true, returnDocument: 'before' },
    ),
  );
  await bumpTenantVersion(store, tenant, 'eventTypes');
  const doc = await store.eventTypes.findOne({ _id: key(tenant, type) });
  return { doc: doc!, created: result === null };
}

export function findEventType(store: Store, tenant: string, type: string): Promise<EventTypeDoc | null> {
  return store.eventTypes.findOne({ _id: key(tenant, type) });
}

export async function deleteEventType(store: Store, tenant: string, type: string): Promise<boolean> {
  const result = await store.eventTypes.deleteOne({ _id: key(tenant, type) });
  if (result.deletedCount === 1) await bumpTenantVersion(store, tenant, 'eventTypes');
  return result.deletedCount === 1;
}

/** Newest first, as every list. */
export function listEventTypes(store: Store, tenant: string, limit: number, cursor?: string): Promise<Page<EventTypeDoc>> {
  return keysetPage(store.eventTypes, { tenant }, { time: 'createdAt', id: 'type' }, limit, cursor);
}

/** The registry whole, by type, for the OpenAPI document (bounded: a registry is a catalogue, not a log). */
export function allEventTypes(store: Store, tenant: string, max = 1000): Promise<EventTypeDoc[]> {
  return store.eventTypes.find({ tenant }).sort({ type: 1 }).limit(max).toArray();
}

/** The tenant's registry version and its types that carry a schema: what ingestion validates against. */
export async function schemasOf(store: Store, tenant: string): Promise<{ version: number; schemas: Map<string, string> }> {
  const version = (await tenantVersions(store, tenant)).eventTypes; // first: see bumpTenantVersion
  const docs = await store.eventTypes.find({ tenant }, { projection: { type: 1, schemaJson: 1 } }).toArray();
  return { version, schemas: new Map(docs.filter((d) => d.schemaJson).map((d) => [d.type, d.schemaJson!])) };
}
