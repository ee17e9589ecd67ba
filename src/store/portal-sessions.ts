import { isDuplicateKeyError, type PortalSessionDoc, type Store, type TenantSettingsDoc } from './index';

/** Portal sessions and the tenant settings they read, each by `_id` alone. */

export async function insertPortalSession(store: Store, doc: PortalSessionDoc): Promise<void> {
  await store.portalSessions.insertOne(doc);
}

export function findPortalSession(store: Store, id: string): Promise<PortalSessionDoc | null> {
  return store.portalSessions.findOne({ _id: id });
}

/**
 * Spends the link: one insert keyed by the session's `_id` (PortalRedemptionDoc), so of the
 * visits racing with one link exactly one gets the session; answers whether this one did.
 * Only then is the cookie's hash written to the session, by `_id`.
 */
export async function redeemPortalSession(store: Store, id: string, cookieHash: string, now: Date): Promise<boolean> {
  try {
    await store.portalRedemptions.insertOne({ _id: id, at: now });
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
  await store.portalSessions.updateOne({ _id: id }, { $set: { redeemedAt: now, cookieHash } });
  return true;
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
