import { createHmac } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express from 'express';
import { Webhook } from 'standardwebhooks';
import { listen } from '../../src/cli/listen';
import { verifyWebhook, webhookMiddleware, WebhookVerificationError, type VerificationFailure } from '../../src/receiver';

/**
 * The receiver helpers accept what an independent Standard Webhooks sender produces: every
 * signature here is made by the `standardwebhooks` reference package, not by Herald's code.
 */

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const NEW_SECRET = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
const BODY = JSON.stringify({ id: 'evt_1', type: 'package.promoted', timestamp: '2026-11-30T04:00:00.000Z', data: { version: '1.2.3' } });

/** Headers as the reference library signs them, at `at` (default now). */
function signedHeaders(secret: string, body: string, at = new Date(), msgId = 'msg_01TEST') {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(msgId, at, body),
  };
}

function failure(fn: () => unknown): VerificationFailure {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error('expected verification to fail, but it passed');
}

describe('verifyWebhook', () => {
  test('accepts a delivery signed by the standardwebhooks reference library and answers the parsed body', () => {
    expect(verifyWebhook(SECRET, BODY, signedHeaders(SECRET, BODY))).toEqual(JSON.parse(BODY));
  });

  test('takes the raw body as a Buffer and the headers as a fetch Headers object', () => {
    const headers = new Headers(signedHeaders(SECRET, BODY));
    expect(verifyWebhook(SECRET, Buffer.from(BODY), headers)).toMatchObject({ id: 'evt_1' });
  });

  test('agrees with the reference verifier on the same delivery', () => {
    const headers = signedHeaders(SECRET, BODY);
    expect(verifyWebhook(SECRET, BODY, headers)).toEqual(new Webhook(SECRET).verify(BODY, headers));
  });

  test('refuses a tampered body, even one that differs only in whitespace', () => {
    const headers = signedHeaders(SECRET, BODY);
    expect(failure(() => verifyWebhook(SECRET, BODY.replace('1.2.3', '1.2.4'), headers))).toBe('no_matching_signature');
    expect(failure(() => verifyWebhook(SECRET, JSON.stringify(JSON.parse(BODY), null, 1), headers))).toBe('no_matching_signature');
  });

  test('refuses a delivery signed with another secret, and a changed webhook-id', () => {
    expect(failure(() => verifyWebhook(NEW_SECRET, BODY, signedHeaders(SECRET, BODY)))).toBe('no_matching_signature');
    const headers = { ...signedHeaders(SECRET, BODY), 'webhook-id': 'msg_other' };
    expect(failure(() => verifyWebhook(SECRET, BODY, headers))).toBe('no_matching_signature');
  });

  test('refuses timestamps more than five minutes old or ahead by default, and honours a tolerance', () => {
    const now = Date.now();
    expect(failure(() => verifyWebhook(SECRET, BODY, signedHeaders(SECRET, BODY, new Date(now - 301_000))))).toBe('timestamp_too_old');
    expect(failure(() => verifyWebhook(SECRET, BODY, signedHeaders(SECRET, BODY, new Date(now + 301_000))))).toBe('timestamp_in_future');
    expect(verifyWebhook(SECRET, BODY, signedHeaders(SECRET, BODY, new Date(now - 290_000)))).toBeTruthy();
    expect(verifyWebhook(SECRET, BODY, signedHeaders(SECRET, BODY, new Date(now - 3_000_000)), { tolerance: 3600 })).toBeTruthy();
    expect(failure(() => verifyWebhook(SECRET, BODY, signedHeaders(SECRET, BODY, new Date(now - 20_000)), { tolerance: 10 }))).toBe(
      'timestamp_too_old',
    );
  });

  test('during a rotation, accepts a header with several signatures when any one matches', () => {
    const at = new Date();
    const old = signedHeaders(SECRET, BODY, at);
    const fresh = signedHeaders(NEW_SECRET, BODY, at);
    const both = { ...old, 'webhook-signature': `${old['webhook-signature']} ${fresh['webhook-signature']}` };
    expect(verifyWebhook(NEW_SECRET, BODY, both)).toBeTruthy();
    expect(verifyWebhook(SECRET, BODY, both)).toBeTruthy();
    // A receiver holding both secrets accepts a delivery signed with either.
    expect(verifyWebhook([SECRET, NEW_SECRET], BODY, fresh)).toBeTruthy();
    expect(verifyWebhook([NEW_SECRET, SECRET], BODY, old)).toBeTruthy();
  });

  test('refuses missing headers, an unreadable timestamp and a body that is not JSON', () => {
    const headers = signedHeaders(SECRET, BODY);
    expect(failure(() => verifyWebhook(SECRET, BODY, { ...headers, 'webhook-signature': undefined }))).toBe('missing_headers');
    expect(failure(() => verifyWebhook(SECRET, BODY, { ...headers, 'webhook-timestamp': 'yesterday' }))).toBe('invalid_timestamp');
    const text = 'not json';
    expect(failure(() => verifyWebhook(SECRET, text, signedHeaders(SECRET, text)))).toBe('invalid_body');
  });
});

test('an empty secret is refused, by the helpers and by herald listen: with no key bytes anyone can sign', async () => {
  const ts = Math.floor(Date.now() / 1000);
  const forged = `v1,${createHmac('sha256', Buffer.alloc(0)).update(`msg_forged.${ts}.${BODY}`).digest('base64')}`;
  const headers = { 'webhook-id': 'msg_forged', 'webhook-timestamp': String(ts), 'webhook-signature': forged };
  for (const blank of ['', 'whsec_', [SECRET, '']]) {
    expect(() => verifyWebhook(blank, BODY, headers)).toThrow('a webhook secret is empty');
    expect(() => webhookMiddleware(blank)).toThrow('a webhook secret is empty');
  }
  await expect(
    listen(
      { secrets: [''], host: '127.0.0.1', port: 0 },
      () => undefined,
      () => undefined,
    ),
  ).rejects.toThrow('a webhook secret is empty');
});

describe('webhookMiddleware', () => {
  let server: http.Server;
  let url: string;
  const received: unknown[] = [];

  beforeAll(async () => {
    const app = express();
    app.post('/hooks', webhookMiddleware([SECRET]), (req, res) => {
      received.push(req.webhook);
      res.status(204).end();
    });
    server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  test('hands the verified event to the route as req.webhook', async () => {
    const res = await post(BODY, signedHeaders(SECRET, BODY));
    expect(res.status).toBe(204);
    expect(received.at(-1)).toEqual(JSON.parse(BODY));
  });

  test('answers 401 to a bad signature or a stale timestamp and 400 to missing headers, without calling the route', async () => {
    const before = received.length;
    const tampered = await post(BODY.replace('evt_1', 'evt_2'), signedHeaders(SECRET, BODY));
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await tampered.json()) as { detail: string }).detail).toMatch(/no matching signature/);
    expect((await post(BODY, signedHeaders(SECRET, BODY, new Date(Date.now() - 600_000)))).status).toBe(401);
    expect((await post(BODY, {})).status).toBe(400);
    expect(received.length).toBe(before);
  });

  test('answers 400 to a POST with no body at all (neither Content-Length nor Transfer-Encoding), as to one with an empty body', async () => {
    const { port } = new URL(url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () =>
        socket.end('POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(answer).toMatch(/webhook verification failed/);
  });
});
