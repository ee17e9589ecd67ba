import type { Response } from 'express';
import { LRUCache } from 'lru-cache';
import { isStoreUnreachable, TENANT_VERSIONS_MAX_AGE_MS, tenantVersions, type Store, type TenantVersions } from '../store';
import { sharedRead } from '../store/shared-read';

export type TenantVersionsReader = (tenant: string) => Promise<TenantVersions | undefined>;

/**
 * The tenant's versions (`TenantVersionsDoc`) as an ingestion request needs them: from a read asked
 * for at most `maxAgeMs` before the request arrived (TENANT_VERSIONS_MAX_AGE_MS, which every raise
 * of a counter waits out before it returns), in flight or answered, else from a new one (through
 * `sharedRead`, which starts it once a read already in flight settled, or beside one stuck). Either
 * way a schema registered, a subscription changed or a key revoked before a request was sent
 * applies to it; a busy tenant costs about one read per `maxAgeMs`, not one per request.
 * Undefined when the store is unreachable: intake goes on without it (see the validator).
 */
export function tenantVersionsReader(store: Store, maxAgeMs = TENANT_VERSIONS_MAX_AGE_MS): TenantVersionsReader {
  const read = sharedRead((tenant) => tenantVersions(store, tenant));
  /** The newest read per tenant, with when it was asked for: it started then or later. */
  const recent = new LRUCache<string, { askedAt: number; answer: Promise<TenantVersions> }>({ max: 10_000 });

  function readNow(tenant: string, askedAt: number): Promise<TenantVersions> {
    const entry = { askedAt, answer: read(tenant) };
    recent.set(tenant, entry);
    // A failed read answers only those who asked with it: the next request reads again.
    entry.answer.catch(() => recent.peek(tenant) === entry && recent.delete(tenant));
    return entry.answer;
  }

  return (tenant) => {
    const askedAt = performance.now();
    const kept = recent.get(tenant);
    const answer = kept && askedAt - kept.askedAt < maxAgeMs ? kept.answer : readNow(tenant, askedAt);
    return answer.catch((err: unknown) => {
      if (!isStoreUnreachable(err)) throw err;
      return undefined;
    });
  };
}

/** Keeps the counters authentication read for this request's tenant (`tenantVersionsReader`). */
export function rememberVersions(res: Response, versions: TenantVersions): void {
  res.locals.tenantVersions = versions;
}

/** The counters of the request's tenant: those authentication read for it, else a read now. */
export function requestVersions(res: Response, tenant: string, read: TenantVersionsReader): Promise<TenantVersions | undefined> {
  const known = res.locals.tenantVersions as TenantVersions | undefined;
  return known ? Promise.resolve(known) : read(tenant);
}
