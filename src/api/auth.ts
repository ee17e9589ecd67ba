import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ProblemError } from './problem';

export const SCOPES = ['events:write', 'events:read', 'subscriptions:write', 'subscriptions:read'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: every /v1 handler works inside this principal's tenant. */
export interface Principal {
  keyId: string;
  tenant: string;
  scopes: readonly Scope[];
  admin: boolean;
}

/** The admin key acts in tenant `default` with every scope. */
export const DEFAULT_TENANT = 'default';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Bearer authentication; comparing digests keeps the comparison constant-time. */
export function authenticate(adminKey: string): RequestHandler {
  const adminDigest = digest(adminKey);
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(unauthorized('Send an API key as "Authorization: Bearer <key>".'));
    if (!timingSafeEqual(digest(match[1]), adminDigest)) return next(unauthorized('The API key is not valid.'));
    res.locals.principal = { keyId: 'admin', tenant: DEFAULT_TENANT, scopes: SCOPES, admin: true } satisfies Principal;
    next();
  };
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, 'Unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });
}

export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (principal.admin || principal.scopes.includes(scope)) return next();
    next(new ProblemError(403, 'Forbidden', `This API key lacks the "${scope}" scope.`));
  };
}
