import { secretKey, sign, signatureHeader, verify, WebhookVerificationError } from '../../src/domain/signing';

/**
 * The published Standard Webhooks test vector, as used by the reference libraries'
 * "sign function works" tests (standard-webhooks/standard-webhooks,
 * libraries/javascript/src/webhook.test.ts).
 */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
} as const;

/** A second, unrelated secret (32 bytes of 0x07) for rotation and wrong-secret cases. */
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

const vectorHeaders = (signature: string = VECTOR.signature) => ({
  id: VECTOR.msgId,
  timestamp: String(VECTOR.timestamp),
  signature,
});

/** Runs verify and returns the error it threw, failing the test if it did not throw one. */
function verificationError(fn: () => void): WebhookVerificationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return err as WebhookVerificationError;
  }
  throw new Error('expected verify to throw, but it accepted the delivery');
}

describe('sign', () => {
  test('reproduces the published Standard Webhooks test vector exactly', () => {
    expect(sign(VECTOR.secret, VECTOR.msgId, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  test('gives the same signature whether or not the secret carries the whsec_ prefix', () => {
    const bare = VECTOR.secret.slice('whsec_'.length);
    expect(sign(bare, VECTOR.msgId, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  test('changes when any of id, timestamp, body or secret changes', () => {
    const base = sign(VECTOR.secret, VECTOR.msgId, VECTOR.timestamp, VECTOR.body);
    const variants = [
      sign(VECTOR.secret, 'msg_other', VECTOR.timestamp, VECTOR.body),
      sign(VECTOR.secret, VECTOR.msgId, VECTOR.timestamp + 1, VECTOR.body),
      sign(VECTOR.secret, VECTOR.msgId, VECTOR.timestamp, '{"test": 2432232315}'),
      sign(OTHER_SECRET, VECTOR.msgId, VECTOR.timestamp, VECTOR.body),
    ];
    for (const v of variants) {
      expect(v).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(v).not.toBe(base);
    }
  });
});

describe('secretKey', () => {
  test('decodes the base64 part after the whsec_ prefix into the HMAC key bytes', () => {
    const key = secretKey(VECTOR.secret);
    expect(key).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
    expect(key).toHaveLength(24);
  });

  test('treats a secret without the prefix as the base64 part itself', () => {
    expect(secretKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toEqual(secretKey(VECTOR.secret));
  });
});

describe('signatureHeader', () => {
  test('holds one v1 signature per secret, space-separated, in the order of the secrets', () => {
    const header = signatureHeader([VECTOR.secret, OTHER_SECRET], VECTOR.msgId, VECTOR.timestamp, VECTOR.body);
    const parts = header.split(' ');
    expect(parts).toEqual([VECTOR.signature, sign(OTHER_SECRET, VECTOR.msgId, VECTOR.timestamp, VECTOR.body)]);
    expect(parts[0]).not.toBe(parts[1]);
  });

  test("with a single secret is just that secret's signature", () => {
    expect(signatureHeader([VECTOR.secret], VECTOR.msgId, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });
});

describe('verify', () => {
  const atVectorTime = { nowSeconds: VECTOR.timestamp };

  test('accepts the published test vector', () => {
    expect(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(), atVectorTime)).not.toThrow();
  });

  test('accepts when one of several space-separated signatures matches (secret rotation)', () => {
    const otherSig = sign(OTHER_SECRET, VECTOR.msgId, VECTOR.timestamp, VECTOR.body);
    const header = `${otherSig} ${VECTOR.signature}`;
    expect(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(header), atVectorTime)).not.toThrow();
    expect(() => verify(OTHER_SECRET, VECTOR.body, vectorHeaders(header), atVectorTime)).not.toThrow();
  });

  test('accepts a header produced by signatureHeader with the old and the new secret, under either secret', () => {
    const header = signatureHeader([VECTOR.secret, OTHER_SECRET], VECTOR.msgId, VECTOR.timestamp, VECTOR.body);
    for (const secret of [VECTOR.secret, OTHER_SECRET]) {
      expect(() => verify(secret, VECTOR.body, vectorHeaders(header), atVectorTime)).not.toThrow();
    }
  });

  test('skips entries of another version or without a mac and still finds the valid one', () => {
    const mac = VECTOR.signature.slice(3);
    const header = `v2,${mac} v1, garbage ${VECTOR.signature}`;
    expect(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(header), atVectorTime)).not.toThrow();
  });

  test('rejects a correct mac labelled with a version other than v1', () => {
    const mac = VECTOR.signature.slice(3);
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(`v2,${mac}`), atVectorTime));
    expect(err.message).toBe('no matching signature');
  });

  test('rejects a tampered body', () => {
    const err = verificationError(() => verify(VECTOR.secret, '{"test": 2432232315}', vectorHeaders(), atVectorTime));
    expect(err.message).toBe('no matching signature');
  });

  test('rejects a body that differs only in whitespace', () => {
    const err = verificationError(() => verify(VECTOR.secret, '{"test":2432232314}', vectorHeaders(), atVectorTime));
    expect(err.message).toBe('no matching signature');
  });

  test('rejects a signature made with another secret', () => {
    const err = verificationError(() => verify(OTHER_SECRET, VECTOR.body, vectorHeaders(), atVectorTime));
    expect(err.message).toBe('no matching signature');
  });

  test('rejects a tampered message id', () => {
    const headers = { ...vectorHeaders(), id: 'msg_p5jXN8AQM9LWM0D4loKWxJeK' };
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, headers, atVectorTime));
    expect(err.message).toBe('no matching signature');
  });

  test('rejects a timestamp changed within the tolerance, because the timestamp is signed', () => {
    const headers = { ...vectorHeaders(), timestamp: String(VECTOR.timestamp + 1) };
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, headers, atVectorTime));
    expect(err.message).toBe('no matching signature');
  });

  test('rejects a truncated signature and an empty v1 entry', () => {
    for (const signature of [VECTOR.signature.slice(0, 8), 'v1,', 'v1,dawfeoifkpqwoekfpqoekf']) {
      const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(signature), atVectorTime));
      expect(err.message).toBe('no matching signature');
    }
  });

  test('accepts a timestamp exactly at the 5-minute tolerance, on either side', () => {
    expect(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(), { nowSeconds: VECTOR.timestamp + 300 })).not.toThrow();
    expect(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(), { nowSeconds: VECTOR.timestamp - 300 })).not.toThrow();
  });

  test('rejects a stale timestamp more than 5 minutes old, even with a valid signature', () => {
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(), { nowSeconds: VECTOR.timestamp + 301 }));
    expect(err.message).toBe('timestamp too old');
  });

  test('rejects a timestamp more than 5 minutes in the future, even with a valid signature', () => {
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(), { nowSeconds: VECTOR.timestamp - 301 }));
    expect(err.message).toBe('timestamp in the future');
  });

  test('honours a custom tolerance', () => {
    const options = { nowSeconds: VECTOR.timestamp + 60, toleranceSeconds: 30 };
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders(), options));
    expect(err.message).toBe('timestamp too old');
    expect(() =>
      verify(VECTOR.secret, VECTOR.body, vectorHeaders(), { nowSeconds: VECTOR.timestamp + 60, toleranceSeconds: 60 }),
    ).not.toThrow();
  });

  test('uses the real clock when no nowSeconds is given', () => {
    jest.useFakeTimers({ now: (VECTOR.timestamp + 10) * 1000 });
    try {
      expect(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders())).not.toThrow();
      jest.setSystemTime((VECTOR.timestamp + 3600) * 1000);
      expect(verificationError(() => verify(VECTOR.secret, VECTOR.body, vectorHeaders())).message).toBe('timestamp too old');
    } finally {
      jest.useRealTimers();
    }
  });

  test.each([
    ['webhook-id', { id: undefined }],
    ['webhook-timestamp', { timestamp: undefined }],
    ['webhook-signature', { signature: undefined }],
    ['an empty webhook-id', { id: '' }],
    ['an empty webhook-timestamp', { timestamp: '' }],
    ['an empty webhook-signature', { signature: '' }],
  ])('rejects a delivery missing %s', (_name, override) => {
    const headers = { ...vectorHeaders(), ...override };
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, headers, atVectorTime));
    expect(err.message).toBe('missing webhook headers');
  });

  test.each(['hello', '1614265330.5', 'NaN'])('rejects the non-integer timestamp %p', (timestamp) => {
    const headers = { ...vectorHeaders(), timestamp };
    const err = verificationError(() => verify(VECTOR.secret, VECTOR.body, headers, atVectorTime));
    expect(err.message).toBe('invalid timestamp');
  });
});
