import type { Response } from 'express';
import { isStoreUnreachable, tenantVersions, type Store, type TenantVersions } from '../store';
import { sharedRead } from '../store/shared-read';

export type TenantVersionsReader = (tenant: string) => Promise<TenantVersions | undefined>;

/**
 * The tenant's versions (`TenantVersionsDoc`) as an ingestion request needs them: read once per
 * request, after it arrived, and shared by the tenant's requests that arrive while another read
 * is in flight (`sharedRead`: each is answered by a read that started after it arrived, so a
 * schema registered or a subscription changed before a request was sent applies to its events).
 * Undefined when the store is unreachable: intake goes on without it (see the validator).
 */
export function tenantVersionsReader(store: Store): TenantVersionsReader {
  const read = sharedRead((tenant) => tenantVersions(store, tenant));
  return (tenant) =>
    read(tenant).catch((err: unknown) => {
      if (!isStoreUnreachable(err)) throw err;
      return undefined;
    });
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
