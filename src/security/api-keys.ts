import { createHash, randomBytes } from 'node:crypto';
import { newUlid } from '../domain/ids';

/**
 * API keys: `hk_<ulid>_<43 characters of base64url>`. The ulid names the key's record
 * (`key_<ulid>`), so authentication is one look-up by id; the random part is 256 bits, so
 * a SHA-256 of the whole key is enough to store (no slow hash needed).
 */

const KEY_FORMAT = /^hk_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  id: string;
  key: string;
  prefix: string;
  hash: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(): NewApiKey {
  const id = newUlid();
  const key = `hk_${id}_${randomBytes(32).toString('base64url')}`;
  return { id: `key_${id}`, key, prefix: `hk_${id}`, hash: hashApiKey(key) };
}

/** The record id a presented key claims, or null when it is not shaped like a key. */
export function apiKeyIdOf(key: string): string | null {
  const match = KEY_FORMAT.exec(key);
  return match ? `key_${match[1]}` : null;
}
