import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import * as api from '../harness/api';
import { freePort, portIsOpen, waitForPort } from '../harness/servers';
import { eventually, sharedServers, useStack, WorkerProcess } from '../harness/stack';
import { storeProxy } from '../harness/store-proxy';

/** Graceful shutdown: what an operator's SIGTERM to the worker or the API does to the work in flight. */

const env = useStack();

test('SIGTERM to the worker lets the attempt in flight finish and record before it exits 0', async () => {
  env.receiver.on('/slow-2s', () => ({ status: 200, delayMs: 2_000 }));
  await api.subscribe(env.stack, env.receiver, '/slow-2s', ['shutdown.worker']);
  const event = await api.send(env.stack, { type: 'shutdown.worker', data: {} });
  await eventually(() => env.receiver.received('/slow-2s').length === 1, 30_000, 'the attempt to arrive');

  const started = Date.now();
  const code = await env.stack.worker.kill('SIGTERM');
  expect(code).toBe(0);
  expect(Date.now() - started).toBeLessThan(12_000); // within the 10 s grace period
  const [request] = env.receiver.received('/slow-2s');
  expect(request.abortedAt).toBeUndefined(); // the receiver's answer was read, not cut off

  env.stack.worker = await WorkerProcess.start(env.stack.workerEnv);
  const view = await api.finalEvent(env.stack, event.id);
  expect(view.status).toBe('delivered');
  expect(view.deliveries[0].attempts).toBe(1); // recorded once, not sent again by the new worker
  expect(env.receiver.received('/slow-2s')).toHaveLength(1);
});

/** API processes a test started: one a failed test left running is killed after it. */
const apis: ChildProcess[] = [];
afterEach(() => {
  for (const child of apis.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** An API process of its own, on the stack's Temporal and store (`overrides` replace its variables), to stop. */
async function startApi(overrides: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../dist/src/api.js')], {
    env: {
      ...process.env,
      ...env.stack.workerEnv,
      HERALD_ADMIN_KEY: env.stack.adminKey,
      HERALD_PORT: String(port),
      HERALD_LOG_LEVEL: 'silent',
      ...overrides,
    },
    stdio: 'ignore',
  });
  apis.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitForPort(port);
  return { port, child, exited };
}

test('SIGTERM to the API finishes the request in flight, refuses new connections and exits 0', async () => {
  const { port, child, exited } = await startApi();

  // A request whose body is still arriving when SIGTERM comes.
  const body = JSON.stringify({ type: 'shutdown.api', data: { n: 1 } });
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  socket.write(
    `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${env.stack.adminKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
  );
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  expect(await portIsOpen(port)).toBe(false); // new connections are refused
  socket.write(body.slice(10)); // the rest of the body; the answer ends the connection (Connection: close)
  await new Promise((resolve) => socket.once('close', resolve));
  expect(answer).toMatch(/^HTTP\/1\.1 202/);
  expect(await exited).toBe(0);
  // Its ingestion-log entry, written after the answer, was written before the API exited.
  const { id } = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { id: string };
  const log = await env.stack.request('GET', '/v1/ingest-log?status=202&limit=50');
  expect(log.body.data.map((entry: { eventIds?: string[] }) => entry.eventIds ?? []).flat()).toContain(id);
});

test('SIGTERM to the API while a client has sent half its headers: the API closes that connection after the longest a request may take, and exits 0', async () => {
  const { port, child, exited } = await startApi();
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.on('error', () => undefined);
  socket.write(`POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n`); // and nothing more
  await new Promise((r) => setTimeout(r, 1_000)); // read by the API, so the connection is not idle
  const stoppedAt = Date.now();
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 45_000))]);
  expect(code).toBe(0);
  expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(29_000); // requestTimeout: a slow request still had its time
  socket.destroy();
}, 60_000);

test('SIGTERM to the API while an ingestion-log entry waits to be tried again: the entry is written before it exits', async () => {
  // The API's store through a proxy that cuts the entry's first two inserts: the writer tries
  // again after 0.25 and 1 s, and SIGTERM comes between the first cut and the last try.
  const proxy = await storeProxy(new URL(sharedServers().mongoBaseUrl));
  try {
    // The stack's database through the proxy; no retryable writes, which on a replica set would resend the cut insert at once.
    const database = new URL(env.stack.workerEnv.MONGO_URL).pathname;
    const { port, child, exited } = await startApi({ MONGO_URL: `mongodb://127.0.0.1:${proxy.port}${database}?retryWrites=false` });

    proxy.dropNextInsert('ingest_log', false, 2);
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'shutdown.api.log', data: {} }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await eventually(() => proxy.dropped() >= 1, 10_000, "the entry's first insert to be cut");
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(proxy.dropped()).toBe(2);

    const log = await env.stack.request('GET', '/v1/ingest-log?status=202&limit=50');
    expect(log.body.data.map((entry: { eventIds?: string[] }) => entry.eventIds ?? []).flat()).toContain(id);
  } finally {
    await proxy.close();
  }
});

test('SIGTERM to the API announces the refusals it had counted for the minute before it exits', async () => {
  const { key } = await api.createKey(env.stack, 'shutdown-refusals', ['events:write', 'subscriptions:write']);
  const sub = await env.stack.request(
    'POST',
    '/v1/subscriptions',
    { channel: 'webhook', url: `${env.receiver.url}/shutdown-rejected`, eventTypes: ['herald.ingest.rejected'] },
    { authorization: `Bearer ${key}` },
  );
  expect(sub.status).toBe(201);
  const { port, child, exited } = await startApi();
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'Bad!', data: {} }),
    });
    expect(res.status).toBe(400);
  }
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  // The first refusal is announced at once; the other two were counted for the minute's announcement, which the exit brings forward.
  const counted = () => env.receiver.received('/shutdown-rejected').reduce((n, r) => n + JSON.parse(r.body).data.count, 0);
  await eventually(() => counted() === 3, 30_000, 'all three refusals announced');
  expect(env.receiver.received('/shutdown-rejected')).toHaveLength(2);
});
