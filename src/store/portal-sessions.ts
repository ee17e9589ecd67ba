import type { PortalSessionDoc, Store, TenantSettingsDoc } from './index';

/** Portal sessions and the tenant settings they read, each by `_id` alone. */

export async function insertPortalSession(store: Store, doc: PortalSessionDoc): Promise<void> {
  await store.portalSessions.insertOne(doc);
}

export function findPortalSession(store: Store, id: string): Promise<PortalSessionDoc | null> {
  return store.portalSessions.findOne({ _id: id });
}

/**
 * Spends the link: one conditional update by `_id`, so of two visits racing with the same
 * link exactly one sets `redeemedAt` and gets the session; answers whether this one did.
 */
export async function redeemPortalSession(store: Store, id: string, cookieHash: string, now: Date): Promise<boolean> {
  const result = await store.portalSessions.updateOne(
    { _id: id, redeemedAt: { $exists: false } },
    { $set: { redeemedAt: now, cookieHash } },
  );
  return result.modifiedCount === 1;
}

export function findTenantSettings(store: Store, tenant: string): Promise<TenantSettingsDoc | null> {
  return store.tenantSettings.findOne({ _id: tenant });
}

export async function updateTenantSettings(
  store: Store,
  tenant: string,
  patch: Omit<Partial<TenantSettingsDoc>, '_id' | 'updatedAt'>,
  now: Date,
): Promise<TenantSettingsDoc> {
  await store.tenantSettings.updateOne({ _id: tenant }, { $set: { ...patch, updatedAt: now } }, { upsert: true });
  return (await findTenantSettings(store, tenant))!;
}
