import { classifyAttempt, classifySmtpReply, type AttemptOutcome } from '../../src/domain/outcome';

const now = Date.parse('2025-06-01T12:00:00Z');
const response = (status: number, retryAfter?: string) => classifyAttempt({ kind: 'response', status, retryAfter }, now);

describe('classifyAttempt', () => {
  test.each([200, 201, 202, 204, 299])('a %p response means the delivery succeeded', (status) => {
    expect(response(status)).toEqual({ kind: 'succeeded' });
  });

  test.each([100, 199])('a %p (below 2xx) is not a success but retryable', (status) => {
    expect(response(status)).toEqual({ kind: 'retryable', reason: `receiver answered ${status}` });
  });

  test('410 Gone is permanent and disables the subscription', () => {
    expect(response(410)).toEqual({
      kind: 'permanent',
      reason: 'receiver answered 410 Gone',
      disableSubscription: true,
    });
  });

  test('410 stays permanent even when it carries a Retry-After', () => {
    expect(response(410, '60').kind).toBe('permanent');
  });

  test.each([300, 301, 302, 303, 304, 307, 308, 399])('a %p redirect is retryable and is not followed', (status) => {
    const outcome = response(status);
    expect(outcome).toEqual({ kind: 'retryable', reason: `redirect ${status} not followed` });
  });

  test.each([429, 503])('%p with Retry-After in seconds asks for at least that delay', (status) => {
    expect(response(status, '120')).toEqual({
      kind: 'retryable',
      reason: `receiver answered ${status}`,
      minDelayMs: 120_000,
    });
  });

  test('503 with Retry-After as an HTTP-date asks for the time until that date', () => {
    const outcome = response(503, 'Sun, 01 Jun 2025 12:10:00 GMT');
    expect(outcome).toMatchObject({ kind: 'retryable', minDelayMs: 10 * 60_000 });
  });

  test('a Retry-After beyond 24 hours is capped at 24 hours', () => {
    expect(response(429, '172800')).toMatchObject({ kind: 'retryable', minDelayMs: 24 * 60 * 60 * 1000 });
  });

  test.each([
    ['absent', undefined],
    ['garbage', 'later'],
    ['a date in the past', 'Sun, 01 Jun 2025 11:00:00 GMT'],
  ])('429 with a Retry-After that is %s is retryable without a minimum delay', (_what, retryAfter) => {
    const outcome = response(429, retryAfter);
    expect(outcome.kind).toBe('retryable');
    expect((outcome as Extract<AttemptOutcome, { kind: 'retryable' }>).minDelayMs).toBeUndefined();
  });

  test('500 is retryable and ignores any Retry-After', () => {
    const outcome = response(500, '120');
    expect(outcome).toEqual({ kind: 'retryable', reason: 'receiver answered 500' });
    expect(outcome).not.toHaveProperty('minDelayMs');
  });

  test.each([400, 401, 403, 404, 408, 413, 502, 504])('a %p is retryable without a minimum delay', (status) => {
    expect(response(status, '120')).toEqual({ kind: 'retryable', reason: `receiver answered ${status}` });
  });

  test('a network error is retryable and carries the error message as reason', () => {
    expect(classifyAttempt({ kind: 'error', message: 'connect ECONNREFUSED 203.0.113.7:443' }, now)).toEqual({
      kind: 'retryable',
      reason: 'connect ECONNREFUSED 203.0.113.7:443',
    });
  });
});

describe('classifySmtpReply', () => {
  test.each([250, 251])('a %p reply means the email was accepted', (code) => {
    expect(classifySmtpReply({ code, message: `${code} OK` })).toEqual({ kind: 'succeeded' });
  });

  test.each([421, 450, 451, 452])('a temporary %p is retried on the schedule', (code) => {
    expect(classifySmtpReply({ code, message: `${code} try later` })).toEqual({
      kind: 'retryable',
      reason: `SMTP server answered ${code}`,
    });
  });

  test.each([500, 550, 553, 554])('a permanent %p fails at once without disabling the subscription', (code) => {
    expect(classifySmtpReply({ code, message: `${code} no` })).toEqual({
      kind: 'permanent',
      reason: `SMTP server answered ${code}`,
      disableSubscription: false,
    });
  });

  test('no reply at all (refused connection, timeout) is retried with the error as its reason', () => {
    expect(classifySmtpReply({ code: null, message: 'ECONNECTION: connect ECONNREFUSED 127.0.0.1:2525' })).toEqual({
      kind: 'retryable',
      reason: 'ECONNECTION: connect ECONNREFUSED 127.0.0.1:2525',
    });
  });
});
