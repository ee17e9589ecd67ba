import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { HeraldClient, HeraldNetworkError } from '../../src/client';
import { DEFAULT_RETRY, delayBefore, retryAfterMs } from '../../src/client/retry';

describe('Retry-After', () => {
  test('reads delta-seconds and HTTP dates, and ignores what it cannot read', () => {
    const now = Date.parse('2026-11-30T04:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Mon, 30 Nov 2026 04:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Mon, 30 Nov 2026 03:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  test("the server's Retry-After decides the wait, but never beyond maxDelayMs", () => {
    expect(delayBefore(1, 2000, DEFAULT_RETRY)).toBe(2000);
    expect(delayBefore(1, 3_600_000, DEFAULT_RETRY)).toBe(DEFAULT_RETRY.maxDelayMs);
  });

  test('without Retry-After the back-off doubles, with ±20% jitter, up to the cap', () => {
    const options = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 50; i++) {
      expect(delayBefore(1, undefined, options)).toBeGreaterThanOrEqual(80);
      expect(delayBefore(1, undefined, options)).toBeLessThanOrEqual(120);
      expect(delayBefore(3, undefined, options)).toBeGreaterThanOrEqual(320);
      expect(delayBefore(3, undefined, options)).toBeLessThanOrEqual(480);
      expect(delayBefore(8, undefined, options)).toBe(1000);
    }
  });
});

describe('answer timeouts', () => {
  /** A server that answers after `ms`, unless the request is aborted first (as fetch is). */
  const slowFetch = (ms: number) =>
    ((_url: URL, init: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        const timer = setTimeout(() => resolve(Response.json({ outcome: 'succeeded' })), ms);
        init.signal!.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(init.signal!.reason as Error);
        });
      })) as unknown as typeof fetch;

  test("a subscription's test waits past the client's timeout for the ping's outcome; other calls do not", async () => {
    const client = new HeraldClient({
      url: 'http://127.0.0.1:1',
      apiKey: 'k',
      timeoutMs: 50,
      fetch: slowFetch(200),
      retries: { attempts: 1 },
    });
    await expect(client.subscriptions.test('sub_1')).resolves.toEqual({ outcome: 'succeeded' });
    await expect(client.subscriptions.get('sub_1')).rejects.toThrow(HeraldNetworkError);
  });
});

describe('a delete sent again', () => {
  const problem404 = () =>
    new Response(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'subscription sub_1' }), {
      status: 404,
      headers: { 'content-type': 'application/problem+json' },
    });

  test('after its answer was lost, a 404 says the first one deleted it; without a lost answer, 404 is an error', async () => {
    let calls = 0;
    const flaky = (() =>
      ++calls === 1 ? Promise.reject(new TypeError('fetch failed')) : Promise.resolve(problem404())) as unknown as typeof fetch;
    const client = new HeraldClient({ url: 'http://127.0.0.1:1', apiKey: 'k', fetch: flaky, retries: { attempts: 3, baseDelayMs: 1 } });
    await expect(client.subscriptions.delete('sub_1')).resolves.toBeUndefined();
    expect(calls).toBe(2);

    const missing = new HeraldClient({
      url: 'http://127.0.0.1:1',
      apiKey: 'k',
      fetch: () => Promise.resolve(problem404()),
    });
    await expect(missing.subscriptions.delete('sub_1')).rejects.toMatchObject({ status: 404 });
  });
});

describe('503', () => {
  const OUTCOME_UNKNOWN = 'https://herald.dev/problems/outcome-unknown';
  /** Answers each request with the next status (then 202); a 503 of `type` when given. */
  const answering = (statuses: number[], type = 'https://herald.dev/problems/service-unavailable') => {
    const sent: string[] = [];
    const fetchFn = ((url: URL, init: RequestInit) => {
      sent.push(`${init.method} ${url.pathname}`);
      const status = statuses[sent.length - 1] ?? 202;
      const body = status === 202 ? { id: 'e1', workflowId: 'w', duplicate: false } : { type, title: 'x', status };
      return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'retry-after': '0' } }));
    }) as unknown as typeof fetch;
    return { sent, client: new HeraldClient({ url: 'http://127.0.0.1:1', apiKey: 'k', fetch: fetchFn, retries: { attempts: 3 } }) };
  };

  test('of an outcome unknown (Temporal may have taken it) is sent again only when safe: an event with its id, never a replay or a recover', async () => {
    const send = answering([503], OUTCOME_UNKNOWN);
    await expect(send.client.events.send({ id: 'e1', type: 'a.b', data: {} })).resolves.toMatchObject({ id: 'e1' });
    expect(send.sent).toEqual(['POST /v1/events', 'POST /v1/events']);

    const replay = answering([503], OUTCOME_UNKNOWN);
    await expect(replay.client.events.replay('e1')).rejects.toMatchObject({ status: 503, type: OUTCOME_UNKNOWN });
    expect(replay.sent).toEqual(['POST /v1/events/e1/replay']);
    const recover = answering([503], OUTCOME_UNKNOWN);
    await expect(recover.client.subscriptions.recover('sub_1', { since: '2026-12-01T00:00:00Z' })).rejects.toMatchObject({ status: 503 });
    expect(recover.sent).toHaveLength(1);
  });

  test('that changed nothing (a store failover, load shedding), and 429, are sent again whatever the request', async () => {
    for (const status of [503, 429]) {
      const replay = answering([status]);
      await expect(replay.client.events.replay('e1')).resolves.toBeDefined();
      expect(replay.sent).toHaveLength(2);
    }
  });
});

describe('the API URL and network errors', () => {
  test('a URL fetch cannot take is refused when the client is made, not retried as a network error', () => {
    for (const url of ['localhost:8080', '', 'ftp://127.0.0.1']) {
      expect(() => new HeraldClient({ url, apiKey: 'k' })).toThrow(/must be an http:\/\/ or https:\/\/ URL/);
    }
  });

  test('a network error says why, not only "fetch failed"', async () => {
    // A loopback port nothing listens on any more.
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const client = new HeraldClient({ url: `http://127.0.0.1:${port}`, apiKey: 'k', retries: { attempts: 1 } });
    await expect(client.subscriptions.get('sub_1')).rejects.toThrow(/fetch failed \(.*ECONNREFUSED/);
  });
});
