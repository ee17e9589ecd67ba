import { randomBytes } from 'node:crypto';
import { createSecretBox } from '../../src/security/secret-box';
import { isSensitiveHeader, openHeaders, redactHeaders, sealHeaders } from '../../src/security/sensitive';

const box = createSecretBox(randomBytes(32));

describe('credential-like headers', () => {
  test('are recognised by name, whatever the case', () => {
    for (const name of ['Authorization', 'X-Api-Key', 'api_key', 'Cookie', 'X-Auth-Token', 'X-Secret', 'password'])
      expect(isSensitiveHeader(name)).toBe(true);
    for (const name of ['X-Team', 'Accept', 'X-Request-Id']) expect(isSensitiveHeader(name)).toBe(false);
  });

  test('are sealed at rest, opened for sending, and shown redacted', () => {
    const headers = { Authorization: 'Bearer s3cret', 'X-Team': 'blue' };
    const sealed = sealHeaders(headers, box);
    expect(sealed['X-Team']).toBe('blue');
    expect(sealed.Authorization).not.toContain('s3cret');
    expect(openHeaders(sealed, box)).toEqual(headers);
    expect(redactHeaders(sealed)).toEqual({ Authorization: '[redacted]', 'X-Team': 'blue' });
  });
});
