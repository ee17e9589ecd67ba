import { randomBytes } from 'node:crypto';
import { newUlid } from '../domain/ids';
import { hashApiKey } from './api-keys';

/**
 * A portal session's two secrets, shaped like API keys: the one-time link's token
 * (`hpl_<ulid>_<256 random bits>`) and, once it is redeemed, the cookie's
 * (`hps_<same ulid>_<256 other random bits>`). The ulid names the session's record
 * (`ps_<ulid>`), so each is checked with one read by `_id`; only SHA-256 hashes are stored.
 */

const LINK = /^hpl_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;
const COOKIE = /^hps_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

export const hashPortalToken = hashApiKey;

export function newPortalLink(): { id: string; token: string; hash: string } {
  const id = newUlid();
  const token = `hpl_${id}_${randomBytes(32).toString('base64url')}`;
  return { id: `ps_${id}`, token, hash: hashPortalToken(token) };
}

/** The cookie value for session `ps_<ulid>`. */
export function newPortalCookie(sessionId: string): { token: string; hash: string } {
  const token = `hps_${sessionId.slice('ps_'.length)}_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashPortalToken(token) };
}

/** The session a link or cookie claims, or null when it is not shaped like one. */
export function portalSessionIdOf(token: string, kind: 'link' | 'cookie'): string | null {
  const match = (kind === 'link' ? LINK : COOKIE).exec(token);
  return match ? `ps_${match[1]}` : null;
}
