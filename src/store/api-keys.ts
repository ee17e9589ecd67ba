import { bumpTenantVersion, type ApiKeyDoc, type Store } from './index';
import { keysetPage, type Page } from './paging';

export async function insertApiKey(store: Store, doc: ApiKeyDoc): Promise<void> {
  await store.apiKeys.insertOne(doc);
}

export function findApiKey(store: Store, id: string): Promise<ApiKeyDoc | null> {
  return store.apiKeys.findOne({ _id: id });
}

/**
 * Revokes a key; answers the key (revoked by this call or before), or null when there is none.
 * Stored only: `raiseKeysVersion` then tells the API processes that keep the key in memory.
 */
export async function revokeApiKey(store: Store, id: string, now: Date): Promise<ApiKeyDoc | null> {
  await store.apiKeys.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: now } });
  return findApiKey(store, id);
}

/**
 * Raises the tenant's `apiKeys` counter after a revocation, which tells every API process that
 * keeps one of its keys in memory (`authenticate`) to read it again; also when the key was revoked
 * before, so a revocation whose raise failed (answered 500) is told when repeated.
 */
export async function raiseKeysVersion(store: Store, tenant: string): Promise<void> {
  await bumpTenantVersion(store, tenant, 'apiKeys');
}

/**
 * Records that `herald.api_key.expired` was emitted. Two API processes may each emit (one is
 * refused as a duplicate) and mark: the first mark stays, so the key shows when it was announced.
 */
export async function markExpiryAnnounced(store: Store, id: string, at: Date): Promise<void> {
  await store.apiKeys.updateOne({ _id: id, expiryAnnouncedAt: { $exists: false } }, { $set: { expiryAnnouncedAt: at } });
}

/** Every tenant's keys (an admin's list), newest first. */
export function listApiKeys(store: Store, limit: number, cursor?: string): Promise<Page<ApiKeyDoc>> {
  return keysetPage(store.apiKeys, {}, { time: 'createdAt', id: '_id' }, limit, cursor);
}
