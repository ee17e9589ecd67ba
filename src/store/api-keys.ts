import { decodeCursor, encodeCursor, type ApiKeyDoc, type Store } from './index';
import { InvalidCursorError } from './events';

export async function insertApiKey(store: Store, doc: ApiKeyDoc): Promise<void> {
  await store.apiKeys.insertOne(doc);
}

export function findApiKey(store: Store, id: string): Promise<ApiKeyDoc | null> {
  return store.apiKeys.findOne({ _id: id });
}

/** Revokes a key; answers the key (revoked by this call or before), or null when there is none. */
export async function revokeApiKey(store: Store, id: string, now: Date): Promise<ApiKeyDoc | null> {
  await store.apiKeys.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: now } });
  return findApiKey(store, id);
}

export async function listApiKeys(
  store: Store,
  limit: number,
  cursor?: string,
): Promise<{ data: ApiKeyDoc[]; nextCursor: string | null }> {
  const filter: Record<string, unknown> = {};
  if (cursor) {
    const key = decodeCursor(cursor);
    if (!key) throw new InvalidCursorError();
    const [time, id] = key;
    filter.$or = [{ createdAt: { $lt: time } }, { createdAt: time, _id: { $lt: id } }];
  }
  const docs = await store.apiKeys.find(filter).sort({ createdAt: -1, _id: -1 }).limit(limit + 1).toArray();
  const page = docs.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page, nextCursor: docs.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last._id]) : null };
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
  };
}
