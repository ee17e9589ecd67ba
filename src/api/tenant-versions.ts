import type { Response } from 'express';
import { LRUCache } from 'lru-cache';
import { isStoreUnreachable, TENANT_VERSIONS_MAX_AGE_MS, tenantVersions, type Store, type TenantVersions } from '../store';
import { sharedRead } from '../store/shared-read';

export type TenantVersionsReader = (tenant: string) => Promise<TenantVersions | undefined>;

/**
 * The tenant's versions (`TenantVersionsDoc`) as an ingestion request needs them: from a read asked
 * for at most `maxAgeMs` before the request arrived (TENANT_VERSIONS_MAX_AGE_MS, which every raise
 * of a counter waits out before it returns), else from a read after it arrived, shared by the
 * tenant's requests that arrive while another read is in flight (`sharedRead`). Either way a
 * schema registered, a subscription changed or a key revoked before a request was sent applies
 * to it; a busy tenant costs one read per `maxAgeMs`, not one per request.
 * Undefined when the store is unreachable: intake goes on without it (see the validator).
 */
export function tenantVersionsReader(store: Store, maxAgeMs = TENANT_VERSIONS_MAX_AGE_MS): TenantVersionsReader {
  const read = sharedRead((tenant) => tenantVersions(store, tenant));
  /** The newest answer per tenant, with when it was asked for: its read started then or later. */
  const recent = new LRUCache<string, { askedAt: number; versions: TenantVersions }>({ max: 10_000 });
  return async (tenant) => {
    const askedAt = performance.now();
    const kept = recent.get(tenant);
    if (kept && askedAt - kept.askedAt < maxAgeMs) return kept.versions;
    try {
      const versions = await read(tenant);
      const newest = recent.get(tenant);
      if (!newest || newest.askedAt < askedAt) recent.set(tenant, { askedAt, versions }); // answers may settle out of order
      return versions;
    } catch (err) {
      if (!isStoreUnreachable(err)) throw err;
      return undefined;
    }
  };
}

/** Keeps the counters authentication read for this request's tenant, after the request arrived. */
export function rememberVersions(res: Response, versions: TenantVersions): void {
  res.locals.tenantVersions = versions;
}

/** The counters of the request's tenant: those authentication read for it, else a read now. */
export function requestVersions(res: Response, tenant: string, read: TenantVersionsReader): Promise<TenantVersions | undefined> {
  const known = res.locals.tenantVersions as TenantVersions | undefined;
  return known ? Promise.resolve(known) : read(tenant);
}
