import { randomBytes } from 'node:crypto';
import { createSecretBox, parseEncryptionKey, SecretBoxError } from '../../src/security/secret-box';

const box = createSecretBox(randomBytes(32));

describe('secret box', () => {
  test('opens what it sealed, and the sealed text does not contain the secret', () => {
    const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0';
    const sealed = box.seal(secret);
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed)).toBe(secret);
  });

  test('seals the same value differently each time (random IV)', () => {
    expect(box.seal('x')).not.toBe(box.seal('x'));
  });

  test('refuses a value sealed under another key, naming the reason', () => {
    const other = createSecretBox(randomBytes(32));
    expect(() => other.open(box.seal('x'))).toThrow(/sealed with another key/);
  });

  test('refuses tampered ciphertext', () => {
    const parts = box.seal('attack at dawn').split(':');
    const ct = Buffer.from(parts[4], 'base64');
    ct[0] ^= 1;
    parts[4] = ct.toString('base64');
    expect(() => box.open(parts.join(':'))).toThrow(SecretBoxError);
  });

  test('refuses text that is not a sealed value', () => {
    expect(() => box.open('whsec_plain')).toThrow('not a sealed value');
  });
});

describe('parseEncryptionKey', () => {
  test('takes 32 bytes as base64 or hex', () => {
    const key = randomBytes(32);
    expect(parseEncryptionKey(key.toString('base64'))).toEqual(key);
    expect(parseEncryptionKey(key.toString('hex'))).toEqual(key);
  });

  test('refuses other lengths with advice', () => {
    expect(() => parseEncryptionKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    expect(() => parseEncryptionKey('short')).toThrow(/openssl rand/);
  });
});
