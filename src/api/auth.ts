import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { LRUCache } from 'lru-cache';
import type { KeyLimits } from '../domain/key-limits';
import type { PortalLimits } from '../domain/portal-sessions';
import { SCOPES, type Scope } from '../domain/schemas';
import { apiKeyIdOf } from '../security/api-keys';
import type { ApiKeyDoc, Store, TenantVersions } from '../store';
import { findApiKey } from '../store/api-keys';
import { sharedRead } from '../store/shared-read';
import { KeyExpiredError } from './key-expiry';
import { ProblemError } from './problem';
import { unavailable } from './temporal-call';
import { rememberVersions, type TenantVersionsReader } from './tenant-versions';

/** Who is calling: every /v1 handler works inside this principal's tenant. */
export interface Principal {
  /** The key's resource limits (src/api/key-limits.ts); absent for a key that reaches its whole tenant. */
  limits?: KeyLimits;
  expiresAt?: Date;
  keyId: string;
  tenant: string;
  scopes: readonly Scope[];
  admin: boolean;
  /** Set for a portal session (src/api/portal-sessions.ts): what it may reach, checked by its gate. */
  portal?: PortalLimits & { sessionId: string; expiresAt: Date };
}

/** The admin key acts in tenant `default` with every scope. */
export const DEFAULT_TENANT = 'default';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/**
 * How long a key is trusted from memory whatever the tenant's counter says: a revocation raises
 * it in a second write after the key's own, and when that write fails (the DELETE answers 500 and
 * raises it again when repeated) no counter tells the API processes. This bounds that.
 */
const KEY_MAX_AGE_MS = 60_000;

/**
 * Bearer authentication: the admin key, or an API key looked up by the id it carries and
 * compared by digest in constant time. A key is kept in memory with the tenant's `apiKeys`
 * counter as read before it (`TenantVersionsDoc`), which every revocation raises after its
 * write: a request reads the counter (`tenantVersionsReader`: a read that started after any
 * change answered before the request was sent) and trusts the kept key while the counter has not
 * moved, so a key revoked before a request was sent fails it, in every API process. The
 * counters read are the request's (`rememberVersions`): ingestion needs them too, so a request
 * with a known key costs at most one read. A key first seen is read by itself, and requests with it at
 * about the same time share that read in the same way.
 * A request without an Authorization header goes to `withoutKey` (the portal session's cookie).
 */
export function authenticate(
  adminKey: string,
  store: Store,
  versionsOf: TenantVersionsReader,
  withoutKey?: RequestHandler,
): RequestHandler {
  const adminDigest = digest(adminKey);
  const readKey = sharedRead((id) => findApiKey(store, id));
  /** `apiKeys`: the tenant's counter read before the key; absent when the key was read first. */
  const keys = new LRUCache<string, { doc: ApiKeyDoc; apiKeys?: number }>({ max: 10_000, ttl: KEY_MAX_AGE_MS });

  /** The key as it is now, and the tenant's counters when they were read for it. */
  async function currentKey(id: string): Promise<{ doc: ApiKeyDoc | null; versions?: TenantVersions }> {
    const kept = keys.get(id);
    if (!kept) {
      const doc = await readKey(id);
      if (doc) keys.set(id, { doc });
      return { doc };
    }
    const versions = await versionsOf(kept.doc.tenant);
    if (!versions) throw new Error('the store is unreachable');
    if (kept.apiKeys === versions.apiKeys) return { doc: kept.doc, versions };
    const doc = await readKey(id); // after the counter, so it is at least as new
    if (doc) keys.set(id, { doc, apiKeys: versions.apiKeys });
    return { doc, versions };
  }

  return async (req: Request, res: Response, next: NextFunction) => {
    if (withoutKey && req.get('authorization') === undefined) return withoutKey(req, res, next);
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) return next(unauthorized('Send an API key as "Authorization: Bearer <key>".'));
    const given = digest(match[1]);
    if (timingSafeEqual(given, adminDigest)) {
      res.locals.principal = { keyId: 'admin', tenant: DEFAULT_TENANT, scopes: SCOPES, admin: true } satisfies Principal;
      return next();
    }
    const id = apiKeyIdOf(match[1]);
    if (!id) return next(unauthorized('The API key is not valid.'));
    let doc, versions;
    try {
      ({ doc, versions } = await currentKey(id));
    } catch {
      return next(unavailable('The key store is unavailable; try again.'));
    }
    if (!doc || doc.revokedAt || !timingSafeEqual(given, Buffer.from(doc.hash, 'hex'))) {
      return next(unauthorized(doc?.revokedAt ? 'The API key was revoked.' : 'The API key is not valid.'));
    }
    // Expired: 401 key-expired, and `herald.api_key.expired` is announced (src/api/key-expiry.ts).
    // Read again from then on, so a request finds the mark that announcement leaves on the key.
    if (doc.expiresAt && doc.expiresAt.getTime() <= Date.now()) {
      keys.delete(id);
      return next(new KeyExpiredError(doc));
    }
    res.locals.principal = {
      keyId: doc._id,
      tenant: doc.tenant,
      scopes: doc.scopes as Scope[],
      admin: false,
      ...((doc.subjects || doc.eventTypes) && { limits: { subjects: doc.subjects, eventTypes: doc.eventTypes } }),
      ...(doc.expiresAt && { expiresAt: doc.expiresAt }),
    } satisfies Principal;
    if (versions) rememberVersions(res, versions);
    next();
  };
}

export function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, 'Unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });
}

/** Lets the request through when the key has any of these scopes. */
export function requireScope(...scopes: [Scope, ...Scope[]]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (principal.admin || scopes.some((s) => principal.scopes.includes(s))) return next();
    next(new ProblemError(403, 'Forbidden', `This API key lacks the ${scopes.map((s) => `"${s}"`).join(' or ')} scope.`));
  };
}

export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (principalOf(res).admin) return next();
  next(new ProblemError(403, 'Forbidden', 'Only the admin key manages API keys.'));
};
