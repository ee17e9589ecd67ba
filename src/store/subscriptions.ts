import type { EventFilter } from '../domain/filter';
import type { SecretBox } from '../security/secret-box';
import type { SubscriptionPatch } from '../domain/schemas';
import { bumpTenantVersion, tenantVersions, type Store, type SubscriptionDoc } from './index';
import { keysetPage, type Page } from './paging';

export async function insertSubscription(store: Store, doc: SubscriptionDoc): Promise<void> {
  await store.subscriptions.insertOne(doc);
  await bumpSubscriptionsVersion(store, doc.tenant);
}

/**
 * After each change that matching or an attempt sees: create, update, delete, disable, a secret
 * rotated, a failing streak begun or ended (see bumpTenantVersion and ActivityCaches).
 */
const bumpSubscriptionsVersion = (store: Store, tenant: string) => bumpTenantVersion(store, tenant, 'subscriptions');

export const subscriptionsVersion = async (store: Store, tenant: string) => (await tenantVersions(store, tenant)).subscriptions;

export function countSubscriptions(store: Store, tenant: string): Promise<number> {
  return store.subscriptions.countDocuments({ tenant });
}

/** By `_id` alone, the tenant checked here: FerretDB on SQLite reads the whole collection for any other filter. */
export async function findSubscription(store: Store, tenant: string, id: string): Promise<SubscriptionDoc | null> {
  const doc = await store.subscriptions.findOne({ _id: id });
  return doc?.tenant === tenant ? doc : null;
}

export function listSubscriptions(store: Store, tenant: string, limit: number, cursor?: string): Promise<Page<SubscriptionDoc>> {
  return keysetPage(store.subscriptions, { tenant }, { time: 'createdAt', id: '_id' }, limit, cursor);
}

/** Applies a validated patch; re-activating a subscription clears its disabled marks. */
export async function updateSubscription(
  store: Store,
  tenant: string,
  id: string,
  patch: SubscriptionPatch,
  now: Date,
): Promise<SubscriptionDoc | null> {
  const { filter, ...fields } = patch; // stored as text: see SubscriptionDoc.filterJson
  const stored = { ...fields, ...(filter !== undefined && { filterJson: filter === null ? null : JSON.stringify(filter) }) };
  const set: Record<string, unknown> = { updatedAt: now };
  const unset: Record<string, ''> = {};
  for (const [key, value] of Object.entries(stored)) {
    if (value === null)
      unset[key] = ''; // a filter, template or digest removed
    else if (value !== undefined) set[key] = value;
  }
  if (patch.active === true) Object.assign(unset, { disabledAt: '', disabledReason: '', failingSince: '' });
  const updated = await store.subscriptions.findOneAndUpdate(
    { _id: id, tenant },
    Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set },
    { returnDocument: 'after' },
  );
  if (updated) await bumpSubscriptionsVersion(store, tenant);
  return updated;
}

/** The subscription's filter, read back from the text it is stored as; undefined when it has none. */
export function filterOf(doc: SubscriptionDoc): EventFilter | undefined {
  return doc.filterJson === undefined ? undefined : (JSON.parse(doc.filterJson) as EventFilter);
}

export async function deleteSubscription(store: Store, tenant: string, id: string): Promise<boolean> {
  const result = await store.subscriptions.deleteOne({ _id: id, tenant });
  if (result.deletedCount === 1) await bumpSubscriptionsVersion(store, tenant);
  return result.deletedCount === 1;
}

/** How long a rotated-out secret keeps signing beside the new one (docs/api.md section 3: 24 h). */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/**
 * Makes `secret` the signing secret; the one it replaces keeps signing for the overlap, so
 * receivers can switch at their own pace. Secrets whose overlap has ended are dropped.
 */
export async function rotateSecret(store: Store, tenant: string, id: string, secret: string, now: Date): Promise<SubscriptionDoc | null> {
  const expiresAt = new Date(now.getTime() + ROTATION_OVERLAP_MS);
  for (;;) {
    const current = await findSubscription(store, tenant, id);
    if (!current) return null;
    const secrets = [
      { value: secret },
      ...current.secrets
        .filter((s) => !s.expiresAt || s.expiresAt > now)
        .map((s) => ({ value: s.value, expiresAt: s.expiresAt && s.expiresAt < expiresAt ? s.expiresAt : expiresAt })),
    ];
    // Compare-and-set on the secrets as read: of two rotations at once, the second builds on
    // the first, so the secret each answers is one that signs.
    const rotated = await store.subscriptions.findOneAndUpdate(
      { _id: id, tenant, secrets: current.secrets },
      { $set: { secrets, updatedAt: now } },
      { returnDocument: 'after' },
    );
    if (rotated) {
      await bumpSubscriptionsVersion(store, tenant);
      return rotated;
    }
  }
}

/**
 * Disables a subscription; answers it when it is disabled (by this call or an earlier one),
 * so a retried caller still learns the `disabledAt` that names its event. `failingSince`: only
 * if its stored failing streak began then or earlier, so that an attempt that read the
 * subscription before a success ended the streak (or before it was re-enabled) disables nothing.
 */
export async function disableSubscription(
  store: Store,
  id: string,
  reason: string,
  now: Date,
  failingSince?: Date,
): Promise<SubscriptionDoc | null> {
  await store.subscriptions.updateOne(
    { _id: id, active: true, ...(failingSince && { failingSince: { $lte: failingSince } }) },
    { $set: { active: false, disabledAt: now, disabledReason: reason, updatedAt: now }, $unset: { failingSince: '' } },
  );
  const doc = await store.subscriptions.findOne({ _id: id });
  if (doc) await bumpSubscriptionsVersion(store, doc.tenant); // also on a retry: a spare raise is harmless
  return doc && !doc.active && doc.disabledAt ? doc : null;
}

/** Remembers the first failure of a failing streak; later failures keep the first time. */
export async function markFailing(store: Store, tenant: string, id: string, since: Date): Promise<void> {
  const marked = await store.subscriptions.updateOne({ _id: id, failingSince: { $exists: false } }, { $set: { failingSince: since } });
  if (marked.modifiedCount > 0) await bumpSubscriptionsVersion(store, tenant);
}

export async function clearFailing(store: Store, tenant: string, id: string): Promise<void> {
  const cleared = await store.subscriptions.updateOne({ _id: id, failingSince: { $exists: true } }, { $unset: { failingSince: '' } });
  if (cleared.modifiedCount > 0) await bumpSubscriptionsVersion(store, tenant);
}

export function activeSubscriptions(store: Store, tenant: string): Promise<SubscriptionDoc[]> {
  return store.subscriptions.find({ tenant, active: true }).toArray();
}

/** Secrets that still sign, opened: the current one and a rotated one inside its overlap. */
export function signingSecrets(doc: SubscriptionDoc, now: Date, box: SecretBox): string[] {
  return doc.secrets.filter((s) => !s.expiresAt || s.expiresAt > now).map((s) => box.open(s.value));
}

/**
 * Seals every signing secret still stored in the clear (a `whsec_` value, written before
 * secrets were sealed), so that one format is left to read; answers how many subscriptions
 * it sealed. Run once at the worker's start. The scan reads the collection, so it stays out
 * of every per-event path.
 */
export async function sealPlaintextSecrets(store: Store, box: SecretBox): Promise<number> {
  const plain = await store.subscriptions.find({ 'secrets.value': { $regex: '^whsec_' } }, { projection: { secrets: 1 } }).toArray();
  for (const found of plain) {
    let doc: Pick<SubscriptionDoc, '_id' | 'secrets'> | null = found;
    // Compare-and-set on the secrets as read: a rotation by an API meanwhile is kept, and its
    // result sealed on the next round.
    while (doc?.secrets.some((s) => s.value.startsWith('whsec_'))) {
      const secrets = doc.secrets.map((s) => ({ ...s, value: s.value.startsWith('whsec_') ? box.seal(s.value) : s.value }));
      if ((await store.subscriptions.updateOne({ _id: doc._id, secrets: doc.secrets }, { $set: { secrets } })).matchedCount === 1) break;
      doc = await store.subscriptions.findOne({ _id: doc._id }, { projection: { secrets: 1 } });
    }
  }
  return plain.length;
}
