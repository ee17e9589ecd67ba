import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { KeyLimits } from '../domain/key-limits';
import type { PortalLimits } from '../domain/portal-sessions';
import { SCOPES, type Scope } from '../domain/schemas';
import { apiKeyIdOf } from '../security/api-keys';
import type { Store } from '../store';
import { findApiKey } from '../store/api-keys';
import { sharedRead } from '../store/shared-read';
import { KeyExpiredError } from './key-expiry';
import { ProblemError } from './problem';
import { unavailable } from './temporal-call';

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
 * Bearer authentication: the admin key, or an API key looked up by the id it carries and
 * compared by digest in constant time. No cache: a revoked key fails on its next request.
 * Requests with the same key at about the same time share one read, but only one that started
 * after each of them arrived (`sharedRead`), so a request sent after a revocation sees it.
 * A request without an Authorization header goes to `withoutKey` (the portal session's cookie).
 */
export function authenticate(adminKey: string, store: Store, withoutKey?: RequestHandler): RequestHandler {
  const adminDigest = digest(adminKey);
  const readKey = sharedRead((id) => findApiKey(store, id));
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
    let doc;
    try {
      doc = await readKey(id);
    } catch {
      return next(unavailable('The key store is unavailable; try again.'));
    }
    if (!doc || doc.revokedAt || !timingSafeEqual(given, Buffer.from(doc.hash, 'hex'))) {
      return next(unauthorized(doc?.revokedAt ? 'The API key was revoked.' : 'The API key is not valid.'));
    }
    // Expired: 401 key-expired, and `herald.api_key.expired` is announced (src/api/key-expiry.ts).
    if (doc.expiresAt && doc.expiresAt.getTime() <= Date.now()) return next(new KeyExpiredError(doc));
    res.locals.principal = {
      keyId: doc._id,
      tenant: doc.tenant,
      scopes: doc.scopes as Scope[],
      admin: false,
      ...((doc.subjects || doc.eventTypes) && { limits: { subjects: doc.subjects, eventTypes: doc.eventTypes } }),
      ...(doc.expiresAt && { expiresAt: doc.expiresAt }),
    } satisfies Principal;
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
