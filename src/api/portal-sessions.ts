import { timingSafeEqual } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { unlimitedKeysOnly } from './key-limits';
import { portalSessionCreateSchema, tenantSettingsPatchSchema, type TenantSettings } from '../domain/portal-sessions';
import { ownEvent } from '../domain/own-events';
import type { HeraldEvent, Scope } from '../domain/schemas';
import { hashPortalToken, newPortalCookie, newPortalLink, portalSessionIdOf } from '../security/portal-tokens';
import type { PortalSessionDoc, Store } from '../store';
import {
  findPortalSession,
  findTenantSettings,
  insertPortalSession,
  redeemPortalSession,
  updateTenantSettings,
} from '../store/portal-sessions';
import { findSubscription } from '../store/subscriptions';
import { principalOf, requireScope, unauthorized, type Principal } from './auth';
import { announce, type AnnounceDeps } from './announce';
import { parseOrThrow, problemBody, ProblemError, sendProblem, validationProblem } from './problem';
import { unavailable } from './temporal-call';

/**
 * Portal sessions: `POST /v1/portal-sessions` makes a one-time link; `GET /portal/s/{token}`
 * spends it and sets an HttpOnly cookie; the cookie then authenticates `/v1` requests as a
 * principal limited to some subscriptions, which `portalSessionGate` holds to them.
 */

export const PORTAL_COOKIE = 'herald_portal';
/**
 * Every request a session makes carries this header: a page on another site can make the
 * browser send the cookie (SameSite=None when framing is allowed) but cannot add a header
 * without a CORS preflight, which the API never grants. So no cross-site request forgery.
 */
export const PORTAL_HEADER = 'x-herald-portal';

const CSP_BASE = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

/** The portal's Content-Security-Policy: framed only by the origins the tenant lists, if any. */
export function portalCsp(frameAncestors: readonly string[]): string {
  return `${CSP_BASE}; frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`;
}

function hashesEqual(storedHex: string | undefined, token: string): boolean {
  return storedHex !== undefined && timingSafeEqual(Buffer.from(storedHex, 'hex'), Buffer.from(hashPortalToken(token), 'hex'));
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The session a request's cookie holds (expired or not), or null when there is none or it is forged. */
async function sessionOfCookie(store: Store, req: Request): Promise<PortalSessionDoc | null> {
  const token = cookieOf(req, PORTAL_COOKIE);
  const id = token && portalSessionIdOf(token, 'cookie');
  if (!token || !id) return null;
  const doc = await findPortalSession(store, id);
  return doc && hashesEqual(doc.cookieHash, token) ? doc : null;
}

export async function tenantSettingsOf(store: Store, tenant: string): Promise<TenantSettings> {
  const doc = await findTenantSettings(store, tenant);
  return { portalFrameAncestors: doc?.portalFrameAncestors ?? [] };
}

/** Scopes as the portal reads them: what the session's pages may do inside its limits. */
function sessionScopes(readOnly: boolean): Scope[] {
  return readOnly ? ['subscriptions:read', 'events:read'] : ['subscriptions:read', 'events:read', 'subscriptions:write', 'events:write'];
}

/** Authenticates a `/v1` request without an Authorization header by the portal session's cookie. */
export function portalSessionAuth(store: Store): RequestHandler {
  return async (req, res, next) => {
    if (cookieOf(req, PORTAL_COOKIE) === undefined) return next(unauthorized('Send an API key as "Authorization: Bearer <key>".'));
    let doc;
    try {
      doc = await sessionOfCookie(store, req);
    } catch {
      return next(unavailable('The session store is unavailable; try again.'));
    }
    if (!doc) return next(unauthorized('The portal session is not valid: open a new portal link.'));
    if (doc.expiresAt.getTime() <= Date.now()) return next(unauthorized('The portal session expired: ask for a new portal link.'));
    if (req.get(PORTAL_HEADER) !== 'session')
      return next(new ProblemError(403, 'Forbidden', `A portal session's requests must carry the header "${PORTAL_HEADER}: session".`));
    res.locals.principal = {
      keyId: doc._id,
      tenant: doc.tenant,
      scopes: sessionScopes(doc.readOnly),
      admin: false,
      portal: {
        sessionId: doc._id,
        ...(doc.subscriptionIds && { subscriptionIds: doc.subscriptionIds }),
        ...(doc.eventTypes && { eventTypes: doc.eventTypes }),
        readOnly: doc.readOnly,
        expiresAt: doc.expiresAt,
      },
    } satisfies Principal;
    next();
  };
}

/**
 * `herald.portal_session.created|opened`, in the session's tenant: who handed out a link to
 * which subscriptions, and when it was used. Named by the session, so each is emitted once.
 */
function portalSessionEvent(change: 'created' | 'opened', doc: PortalSessionDoc, actor: string, at: Date): HeraldEvent {
  return ownEvent({
    id: `herald:${doc._id}:${change}`,
    type: `herald.portal_session.${change}`,
    data: {
      portalSession: {
        id: doc._id,
        subscriptionIds: doc.subscriptionIds ?? null,
        eventTypes: doc.eventTypes ?? null,
        readOnly: doc.readOnly,
        expiresAt: doc.expiresAt.toISOString(),
        createdBy: doc.createdBy,
      },
    },
    subject: { type: 'portal_session', id: doc._id },
    actor,
    occurredAt: at,
    receivedAt: new Date(),
  });
}

/**
 * Whether the visitor reached Herald over HTTPS: directly, or through a proxy that says so in
 * `X-Forwarded-Proto` (its first entry is the client's side when proxies chain). Express's own
 * `req.protocol` reads that header only under `trust proxy`, which Herald does not set, so
 * behind a TLS-terminating proxy it says `http`.
 */
export function reachedOverHttps(req: Pick<Request, 'secure' | 'get'>): boolean {
  return req.secure || req.get('x-forwarded-proto')?.split(',')[0].trim().toLowerCase() === 'https';
}

/** Where the API was reached, for the link: the portal is served by the same process. */
function originOf(req: Request): string {
  return `${reachedOverHttps(req) ? 'https' : 'http'}://${req.get('host') ?? '127.0.0.1'}`;
}

/** `POST /v1/portal-sessions`: a one-time link to the portal limited to some subscriptions. */
export function portalSessionsRouter(deps: AnnounceDeps & { store: Store }): Router {
  const router = Router();
  router.post(
    '/',
    requireScope('subscriptions:write'),
    // A session reaches its subscriptions' deliveries of every event they get, outside any key limits.
    unlimitedKeysOnly('a portal session reaches its subscriptions, which receive events outside its limits'),
    async (req, res) => {
      const { tenant, keyId } = principalOf(res);
      const input = parseOrThrow(portalSessionCreateSchema, req.body);
      const subscriptionIds = input.subscriptionIds && [...new Set(input.subscriptionIds)];
      if (subscriptionIds) {
        const found = await Promise.all(subscriptionIds.map((id) => findSubscription(deps.store, tenant, id)));
        const missing = subscriptionIds.flatMap((id, i) =>
          found[i] ? [] : [{ path: `subscriptionIds.${i}`, message: `no subscription ${id}` }],
        );
        if (missing.length) throw validationProblem(missing);
      }
      const { id, token, hash } = newPortalLink();
      const now = new Date();
      const doc: PortalSessionDoc = {
        _id: id,
        tenant,
        createdBy: keyId,
        ...(subscriptionIds && { subscriptionIds }),
        ...(input.eventTypes && { eventTypes: input.eventTypes }),
        readOnly: input.readOnly ?? false,
        createdAt: now,
        expiresAt: new Date(now.getTime() + input.expiresIn * 1000),
        linkHash: hash,
      };
      await insertPortalSession(deps.store, doc);
      await announce(deps, tenant, portalSessionEvent('created', doc, `key:${keyId}`, now));
      res.status(201).json({ id, url: `${originOf(req)}/portal/s/${token}`, expiresAt: doc.expiresAt.toISOString() });
    },
  );
  return router;
}

/** `GET|PATCH /v1/settings`: the tenant's settings; today the origins that may frame its portal sessions. */
export function settingsRouter(deps: { store: Store }): Router {
  const router = Router();
  router.get('/', requireScope('subscriptions:read'), async (_req, res) => {
    res.json(await tenantSettingsOf(deps.store, principalOf(res).tenant));
  });
  router.patch(
    '/',
    requireScope('subscriptions:write'),
    unlimitedKeysOnly("the tenant's settings are the whole tenant's"),
    async (req, res) => {
      const { tenant } = principalOf(res);
      const patch = parseOrThrow(tenantSettingsPatchSchema, req.body);
      const doc = await updateTenantSettings(deps.store, tenant, patch, new Date());
      res.json({ portalFrameAncestors: doc.portalFrameAncestors ?? [] } satisfies TenantSettings);
    },
  );
  return router;
}

/** A refused link: a page for a person (who opened it in a browser), problem+json for a program. */
function refuseLink(req: Request, res: Response, status: 404 | 410, title: string, detail: string): void {
  if (!req.accepts('html')) return sendProblem(res, problemBody(status, title, detail));
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${title}</title></head><body><main><h1>${title}</h1><p>${detail}</p></main></body></html>`,
    );
}

/**
 * The portal's own routes for sessions, mounted in `/portal` before its files: the link
 * (`/s/{token}`), spent once (an insert keyed by the session, see PortalRedemptionDoc) and then redirected to the clean URL, and
 * the policy on the page, whose `frame-ancestors` are those of the session's tenant.
 */
export function portalSessionPages(deps: AnnounceDeps & { store: Store }): Router {
  const router = Router();

  router.get('/s/:token', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const token = String(req.params.token);
    const id = portalSessionIdOf(token, 'link');
    const doc = id ? await findPortalSession(deps.store, id) : null;
    if (!doc || !hashesEqual(doc.linkHash, token))
      return refuseLink(req, res, 404, 'This portal link is not valid', 'Check that the whole link was copied, or ask for a new one.');
    const used = () =>
      refuseLink(req, res, 410, 'This portal link was already used', 'A portal link signs in once. Ask whoever sent it for a new one.');
    if (doc.redeemedAt) return used();
    if (doc.expiresAt.getTime() <= Date.now())
      return refuseLink(req, res, 410, 'This portal link expired', 'Ask whoever sent it for a new one.');
    // Express answers HEAD with the GET route: a link checker's HEAD (a mail scanner's, a
    // chat's preview) would spend the link before its visitor opened it.
    if (req.method === 'HEAD') return void res.status(200).type('html').end();
    const cookie = newPortalCookie(doc._id);
    const now = new Date();
    if (!(await redeemPortalSession(deps.store, doc._id, cookie.hash, now))) return used();
    await announce(deps, doc.tenant, portalSessionEvent('opened', doc, `portal_session:${doc._id}`, now));
    const { portalFrameAncestors } = await tenantSettingsOf(deps.store, doc.tenant);
    const secure = reachedOverHttps(req);
    // Framed by another site, the cookie is a third-party one: only SameSite=None (which needs
    // Secure, so HTTPS) with Partitioned is sent there. Otherwise Lax: the link is opened from
    // mail or chat, a navigation from another site, and the redirect must carry the cookie.
    const embeddable = secure && portalFrameAncestors.length > 0;
    res.set('Content-Security-Policy', portalCsp(portalFrameAncestors));
    // No Expires: the browser keeps the cookie until it closes, and past the session's end the
    // API itself answers that the session expired (a cookie the browser dropped would say nothing).
    res.cookie(PORTAL_COOKIE, cookie.token, {
      httpOnly: true,
      secure,
      sameSite: embeddable ? 'none' : 'lax',
      ...(embeddable && { partitioned: true }),
      path: '/',
    });
    res.redirect(303, '/portal/');
  });

  router.get(['/', '/index.html'], async (req, res, next) => {
    const doc = await sessionOfCookie(deps.store, req).catch(() => null);
    if (doc) res.set('Content-Security-Policy', portalCsp((await tenantSettingsOf(deps.store, doc.tenant)).portalFrameAncestors));
    next();
  });

  return router;
}
