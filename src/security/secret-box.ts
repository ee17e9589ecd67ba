import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (subscription signing secrets, credential-like custom headers): sealed
 * with AES-256-GCM under `HERALD_ENCRYPTION_KEY`, so a dump of the database alone does not
 * reveal them. A sealed value names the key that sealed it, so a wrong key is reported as
 * such instead of as corrupt data.
 */

const VERSION = 'v1';

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export class SecretBoxError extends Error {}

/** Parses the key: 32 bytes as base64 (44 characters) or hex (64 characters). */
export function parseEncryptionKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32)
    throw new SecretBoxError('HERALD_ENCRYPTION_KEY must be 32 bytes, as base64 or hex (e.g. `openssl rand -base64 32`)');
  return key;
}

export function createSecretBox(key: Buffer): SecretBox {
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, keyId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
    },
    open(sealed) {
      const [version, sealedBy, iv, tag, ciphertext] = sealed.split(':');
      if (version !== VERSION || !ciphertext) throw new SecretBoxError('not a sealed value');
      if (sealedBy !== keyId) throw new SecretBoxError(`sealed with another key (${sealedBy}); this process has key ${keyId}`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('sealed value failed authentication');
      }
    },
  };
}
