import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { createClient } from 'redis';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '../../src/receiver';
import * as api from '../harness/api';
import { runCli } from '../harness/cli';
import { freePort, waitForPort } from '../harness/servers';
import { eventually, useStack } from '../harness/stack';

/**
 * Broker destinations (docs/api.md section 7) against the machine's real RabbitMQ, NATS
 * JetStream, Redis and Mosquitto, each consumed by an independent client: the message is the
 * webhook's body and signature, its id the delivery's `webhook-id`; a refused publish is a
 * failed attempt retried until the broker takes it; a broker stopped mid-run loses nothing.
 * Every exchange, stream, subject and topic is named for this run and removed after it. The
 * outages are a private redis-server and mosquitto on free ports, never the machine's shared ones.
 */

const env = useStack();
const run = randomBytes(4).toString('hex');
const RETRY = { schedule: Array(10).fill('1s') };
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672/';

let amqpConn: amqp.ChannelModel;
let nc: NatsConnection;
const redis = createClient({ url: 'redis://127.0.0.1:6379' });
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [amqpConn, nc] = await Promise.all([amqp.connect(AMQP_URL), natsConnect({ servers: '127.0.0.1:4222' }), redis.connect()]);
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await Promise.allSettled([amqpConn?.close(), nc?.close(), redis.close()]);
});

async function subscribe(channel: string, eventType: string, target: Record<string, unknown>) {
  const res = await env.stack.request('POST', '/v1/subscriptions', { channel, eventTypes: [eventType], target, retry: RETRY });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; target: Record<string, unknown> };
}

/** A queue bound to a fresh topic exchange, and the messages it receives. */
async function rabbitQueue(exchange: string, bindingKey: string) {
  const ch = await amqpConn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: false });
  cleanups.push(() => ch.deleteExchange(exchange).then(() => ch.close()));
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, exchange, bindingKey);
  const received: amqp.ConsumeMessage[] = [];
  await ch.consume(queue, (msg) => msg && received.push(msg), { noAck: true });
  return received;
}

async function natsStream(name: string, subject: string) {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects: [subject] });
  cleanups.push(() => jsm.streams.delete(name));
  return jsm;
}

async function attemptsOf(eventId: string) {
  const res = await env.stack.request('GET', `/v1/events/${eventId}/attempts`);
  expect(res.status).toBe(200);
  return res.body.data as { subscriptionId: string; attempt: number; request: any; response: any; error: string | null }[];
}

test('each broker carries the webhook body and signature, its id the webhook-id, and the audit records the publish and its ack', async () => {
  const type = `brokers.carried${run}`;
  const exchange = `herald-test-${run}`;
  const stream = `herald-test-${run}`;
  const topic = `herald/test/${run}`;

  const rabbitMessages = await rabbitQueue(exchange, '#');
  const jsm = await natsStream(`HERALD_TEST_${run}`, `herald.test.${run}.>`);
  cleanups.push(() => redis.del(stream));
  const mqttClient = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
  cleanups.push(() => mqttClient.endAsync());
  const mqttMessages: { payload: string; props: Record<string, unknown> }[] = [];
  mqttClient.on('message', (_t, payload, packet) =>
    mqttMessages.push({ payload: payload.toString(), props: packet.properties?.userProperties ?? {} }),
  );
  await mqttClient.subscribeAsync(topic, { qos: 1 });

  const subs = {
    rabbitmq: await subscribe('rabbitmq', type, { url: AMQP_URL, exchange }),
    nats: await subscribe('nats', type, { url: 'nats://127.0.0.1:4222', subject: `herald.test.${run}.orders` }),
    redis: await subscribe('redis', type, { url: 'redis://:unused-pw@127.0.0.1:6379/0', stream, maxLen: 1 }),
    mqtt: await subscribe('mqtt', type, { url: 'mqtt://127.0.0.1:1883', topic }),
  };
  // Credentials are sealed: the password never comes back, at create or after.
  expect(subs.rabbitmq.target).toEqual({ url: 'amqp://guest:***@127.0.0.1:5672/', exchange });
  expect(JSON.stringify((await env.stack.request('GET', `/v1/subscriptions/${subs.redis.id}`)).body)).not.toContain('unused-pw');

  const first = await api.send(env.stack, { type, data: { order: 1 } });
  const second = await api.send(env.stack, { type, data: { order: 2 } });
  const views = [await api.finalEvent(env.stack, first.id), await api.finalEvent(env.stack, second.id)];
  for (const view of views) {
    expect(view.deliveries.map((d: any) => [d.channel, d.status]).sort()).toEqual(
      ['mqtt', 'nats', 'rabbitmq', 'redis'].map((c) => [c, 'succeeded']),
    );
  }
  const idOf = (view: any, channel: string): string => view.deliveries.find((d: any) => d.channel === channel).messageId;

  // RabbitMQ: messageId and headers, verified as a webhook receiver verifies.
  await eventually(() => rabbitMessages.length === 2, 10_000, 'two AMQP messages');
  rabbitMessages.sort((a, b) => Number(a.properties.headers?.['webhook-timestamp']) - Number(b.properties.headers?.['webhook-timestamp']));
  const byEvent = (messages: { body: string; id: string }[]) => new Map(messages.map((m) => [JSON.parse(m.body).id as string, m.id]));
  const rabbit = rabbitMessages.map((m) => {
    const headers = m.properties.headers as Record<string, string>;
    expect(m.properties).toMatchObject({ messageId: headers['webhook-id'], deliveryMode: 2, contentType: 'application/json' });
    expect(headers['herald-event-type']).toBe(type);
    expect(m.fields.routingKey).toBe(type); // the default routing key
    verifyWebhook(subs.rabbitmq.secret, m.content, headers);
    return { body: m.content.toString(), id: m.properties.messageId as string };
  });
  expect(byEvent(rabbit)).toEqual(new Map(views.map((v) => [v.event.id, idOf(v, 'rabbitmq')])));

  // NATS JetStream: Nats-Msg-Id is the webhook-id; verified with the standardwebhooks library.
  const nats = await Promise.all(
    [1, 2].map(async (seq) => {
      const stored = await jsm.streams.getMessage(`HERALD_TEST_${run}`, { seq });
      const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, stored.header.get(h)]));
      expect(stored.header.get('Nats-Msg-Id')).toBe(headers['webhook-id']);
      new Webhook(subs.nats.secret).verify(stored.string(), headers);
      return { body: stored.string(), id: headers['webhook-id'] };
    }),
  );
  expect(byEvent(nats)).toEqual(new Map(views.map((v) => [v.event.id, idOf(v, 'nats')])));
  // A retried attempt publishes the same message under the same Nats-Msg-Id: JetStream keeps one copy.
  const again = await nc.jetstream().publish(`herald.test.${run}.orders`, nats[0].body, { msgID: nats[0].id });
  expect(again.duplicate).toBe(true);
  expect((await jsm.streams.info(`HERALD_TEST_${run}`)).state.messages).toBe(2);

  // Redis: MAXLEN 1 left one entry, the later of the two XADDs (the events' workflows deliver
  // concurrently, so either), whose fields carry the same signature.
  const entries = (await redis.xRange(stream, '-', '+')) ?? [];
  expect(entries).toHaveLength(1);
  const entry = entries[0].message;
  const kept = views.find((v) => idOf(v, 'redis') === entry.id);
  expect(kept).toBeDefined();
  expect(entry.type).toBe(type);
  verifyWebhook(subs.redis.secret, entry.body, {
    'webhook-id': entry.id,
    'webhook-timestamp': entry.timestamp,
    'webhook-signature': entry.signature,
  });
  expect(JSON.parse(entry.body).id).toBe(kept?.event.id);

  // MQTT 5: the webhook headers are user properties.
  await eventually(() => mqttMessages.length === 2, 10_000, 'two MQTT messages');
  const mq = mqttMessages.map(({ payload, props }) => {
    verifyWebhook(subs.mqtt.secret, payload, props as Record<string, string>);
    return { body: payload, id: props['webhook-id'] as string };
  });
  expect(byEvent(mq)).toEqual(new Map(views.map((v) => [v.event.id, idOf(v, 'mqtt')])));

  // The audit: what was published where, and the broker's acknowledgement.
  const attempts = await attemptsOf(first.id);
  const bySub = (id: string) => attempts.find((a) => a.subscriptionId === id)!;
  expect(bySub(subs.rabbitmq.id)).toMatchObject({
    request: {
      url: 'amqp://guest:***@127.0.0.1:5672/',
      destination: { exchange, routingKey: type },
      headers: { 'webhook-id': idOf(views[0], 'rabbitmq'), 'herald-event-type': type },
    },
    response: { status: null, body: `confirmed: exchange "${exchange}", routing key "${type}"` },
    error: null,
  });
  expect(bySub(subs.nats.id).response).toEqual({
    status: null,
    body: expect.stringMatching(new RegExp(`^stream "HERALD_TEST_${run}" seq \\d$`)),
  });
  expect(bySub(subs.redis.id)).toMatchObject({
    request: { url: 'redis://:***@127.0.0.1:6379/0', destination: { stream, maxLen: '1' } },
    response: { status: null, body: expect.stringMatching(new RegExp(`^entry \\d+-\\d+ in stream "${stream}"$`)) },
  });
  expect(bySub(subs.mqtt.id)).toMatchObject({
    request: { destination: { topic, qos: '1' } },
    response: { status: null, body: `PUBACK on topic "${topic}"` },
  });
});

test('a refused publish is a failed attempt, retried until the broker takes it: a missing exchange, an unroutable message, no JetStream stream', async () => {
  const type = `brokers.refused${run}`;
  const exchange = `herald-test-refused-${run}`;
  const subject = `herald.refused.${run}`;
  const rabbitSub = await subscribe('rabbitmq', type, { url: AMQP_URL, exchange, routingKey: 'orders' });
  const natsSub = await subscribe('nats', type, { url: 'nats://127.0.0.1:4222', subject });
  const { id } = await api.send(env.stack, { type, data: {} });

  const failedWith = (subscriptionId: string, pattern: RegExp) =>
    eventually(
      async () => (await attemptsOf(id)).find((a) => a.subscriptionId === subscriptionId && pattern.test(a.error ?? '')),
      20_000,
      `an attempt failing with ${pattern}`,
    );
  const noExchange = await failedWith(rabbitSub.id, /NOT_FOUND - no exchange/);
  expect(noExchange.response).toEqual({ status: null, body: noExchange.error });
  const noStream = await failedWith(natsSub.id, /no JetStream stream captures subject/);
  expect(noStream.response).toEqual({ status: null, body: `no JetStream stream captures subject "${subject}" (503 no responders)` });

  // The exchange exists but nothing is bound to it: the broker returns the message.
  const ch = await amqpConn.createChannel();
  await ch.assertExchange(exchange, 'direct', { durable: false });
  cleanups.push(() => ch.deleteExchange(exchange).then(() => ch.close()));
  await failedWith(rabbitSub.id, /returned unroutable: 312 NO_ROUTE/);
  const view = await api.eventWhen(env.stack, id, () => true);
  expect(view.deliveries.find((d: any) => d.channel === 'rabbitmq')).toMatchObject({ status: 'retrying', lastResponseStatus: null });

  const received: amqp.ConsumeMessage[] = [];
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, exchange, 'orders');
  await ch.consume(queue, (msg) => msg && received.push(msg), { noAck: true });
  const jsm = await natsStream(`HERALD_REFUSED_${run}`, subject);

  const final = await api.finalEvent(env.stack, id, 30_000);
  expect(final.deliveries.map((d: any) => d.status)).toEqual(['succeeded', 'succeeded']);
  const messageId = (channel: string) => final.deliveries.find((d: any) => d.channel === channel).messageId;
  await eventually(() => received.length === 1, 10_000, 'the AMQP message');
  expect(received[0].properties.messageId).toBe(messageId('rabbitmq'));
  const stored = await jsm.streams.getMessage(`HERALD_REFUSED_${run}`, { seq: 1 });
  expect(stored.header.get('Nats-Msg-Id')).toBe(messageId('nats'));
  // Every attempt before the last was recorded as a refusal, with the same webhook-id.
  const rabbitAttempts = (await attemptsOf(id)).filter((a) => a.subscriptionId === rabbitSub.id).sort((a, b) => a.attempt - b.attempt);
  expect(rabbitAttempts.length).toBeGreaterThanOrEqual(3);
  expect(new Set(rabbitAttempts.map((a) => a.request.headers['webhook-id']))).toEqual(new Set([messageId('rabbitmq')]));
  const refusals = rabbitAttempts.slice(0, -1);
  expect(refusals.map((a) => a.response)).toEqual(refusals.map((a) => ({ status: null, body: a.error })));
  expect(rabbitAttempts[rabbitAttempts.length - 1]).toMatchObject({
    error: null,
    response: { status: null, body: expect.stringMatching(/^confirmed/) },
  });
});

test("one subscription's publishes to a missing exchange fail its own attempts only, not those of another on the same broker", async () => {
  const type = `brokers.neighbours${run}`;
  const exchange = `herald-test-present-${run}`;
  const received = await rabbitQueue(exchange, '#');
  const present = await subscribe('rabbitmq', type, { url: AMQP_URL, exchange });
  await subscribe('rabbitmq', type, { url: AMQP_URL, exchange: `herald-test-missing-${run}` });
  const events = await Promise.all(Array.from({ length: 20 }, (_, n) => api.send(env.stack, { type, data: { n } })));
  await eventually(() => received.length === 20, 30_000, 'the 20 messages to the exchange that exists');
  for (const { id } of events) {
    const attempts = (await attemptsOf(id)).filter((a) => a.subscriptionId === present.id);
    expect(attempts.map((a) => [a.attempt, a.error])).toEqual([[1, null]]);
  }
});

test("an event type longer than AMQP's 255-byte routing key fails its delivery at once when it is the routing key, and names the fix", async () => {
  const prefix = `brokers.long${run}.`;
  const type = prefix + 'x'.repeat(256 - prefix.length);
  await rabbitQueue(`herald-test-long-${run}`, '#');
  const sub = await subscribe('rabbitmq', type, { url: AMQP_URL, exchange: `herald-test-long-${run}` });
  const { id } = await api.send(env.stack, { type, data: {} });
  const final = await api.finalEvent(env.stack, id);
  expect(final.deliveries.find((d: any) => d.subscriptionId === sub.id)).toMatchObject({
    status: 'failed',
    attempts: 1,
    error: expect.stringMatching(/longer than AMQP's 255 bytes: set the subscription's routingKey/),
  });
});

test('the CLI creates a broker subscription from --target, shows it with its password as ***, and names a bad field; a PATCH replaces the target whole', async () => {
  const connection = { HERALD_URL: env.stack.url, HERALD_API_KEY: env.stack.adminKey };
  const exchange = `herald-test-cli-${run}`;
  const target = JSON.stringify({ url: 'amqp://guest:guest@127.0.0.1:5672/', exchange, routingKey: 'cli' });
  const created = await runCli(
    ['subscriptions', 'create', '--channel', 'rabbitmq', '--event-types', 'cli.sent', '--target', target, '--json'],
    connection,
  );
  expect(created).toMatchObject({ code: 0, stderr: '' });
  const sub = JSON.parse(created.stdout);
  expect(sub).toMatchObject({ channel: 'rabbitmq', target: { url: 'amqp://guest:***@127.0.0.1:5672/', exchange, routingKey: 'cli' } });

  const table = await runCli(['subscriptions', 'list'], connection);
  expect(table.stdout.split('\n').find((row) => row.startsWith(sub.id))).toContain(
    `amqp://guest:***@127.0.0.1:5672/ exchange=${exchange} routingKey=cli`,
  );
  expect(table.stdout).not.toContain('guest:guest');

  // A PATCH replaces the whole target, checked against the subscription's channel and sealed again.
  const patched = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, {
    target: { url: 'amqp://other:s3cret@127.0.0.1:5672/', exchange: `${exchange}-2` },
  });
  expect(patched.status).toBe(200);
  expect(patched.body.target).toEqual({ url: 'amqp://other:***@127.0.0.1:5672/', exchange: `${exchange}-2` });
  const stored = await env.stack.store.subscriptions.findOne({ _id: sub.id });
  expect(JSON.stringify(stored)).not.toContain('s3cret');
  const wrongShape = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, {
    target: { url: 'amqp://127.0.0.1', subject: 'a.b' },
  });
  expect(wrongShape.status).toBe(400);
  expect(wrongShape.body.errors).toEqual([
    { path: 'target.exchange', message: expect.any(String) },
    { path: 'target.subject', message: 'unknown field for channel "rabbitmq"' },
  ]);
  const foreign = await env.stack.request('PATCH', `/v1/subscriptions/${sub.id}`, { url: 'https://example.com/' });
  expect(foreign.body.errors).toEqual([{ path: 'url', message: 'applies to channel "webhook" only' }]);

  const invalid = await runCli(
    ['subscriptions', 'create', '--channel', 'mqtt', '--event-types', 'a.b', '--target', '{"url": "mqtt://127.0.0.1", "topic": "a/#"}'],
    connection,
  );
  expect(invalid.code).toBe(1);
  expect(invalid.stderr).toMatch(/^\s+target\.topic: must be a topic to publish to: no "\+" or "#" wildcards$/m);
});

test('a Redis URL with a lone user part authenticates with it as the password, as the docs promise', async () => {
  const port = await freePort();
  const token = `tok${run}`;
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', token],
    {
      stdio: 'ignore',
    },
  );
  try {
    await waitForPort(port, 10_000);
    const type = `brokers.token${run}`;
    const stream = `herald-token-${run}`;
    const sub = await subscribe('redis', type, { url: `redis://${token}@127.0.0.1:${port}/0`, stream });
    const { id } = await api.send(env.stack, { type, data: {} });
    const view = await api.finalEvent(env.stack, id, 20_000);
    expect(view.deliveries[0]).toMatchObject({ subscriptionId: sub.id, status: 'succeeded', attempts: 1 });
    const reader = createClient({ url: `redis://:${token}@127.0.0.1:${port}` });
    await reader.connect();
    const entries = (await reader.xRange(stream, '-', '+')) ?? [];
    await reader.close();
    expect(entries.map((e) => JSON.parse(e.message.body).id)).toEqual([id]);
  } finally {
    server.kill('SIGKILL');
  }
});

describe('brokers that are down', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;

  // Its append-only file is synced on every write, so what it acknowledged survives the kill.
  async function startRedis() {
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
    await waitForPort(port, 10_000);
  }
  async function killRedis() {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server!.kill('SIGKILL');
    await exited;
  }
  /** A private mosquitto on `mqttPort`, stopped after the file's tests. */
  async function startMosquitto(conf: string, mqttPort: number) {
    const mosquitto = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    cleanups.push(async () => {
      const exited = new Promise((resolve) => mosquitto.once('exit', resolve));
      mosquitto.kill('SIGTERM');
      await exited;
    });
    await waitForPort(mqttPort, 10_000);
  }
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'herald-redis-'));
    port = await freePort();
    await startRedis();
  });
  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) await killRedis();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every event accepted while it was down arrives once it is back, any duplicate with the same id', async () => {
    const type = `brokers.outage${run}`;
    const stream = `herald-outage-${run}`;
    await subscribe('redis', type, { url: `redis://127.0.0.1:${port}`, stream });
    const before = await Promise.all([1, 2, 3].map((n) => api.send(env.stack, { type, data: { n } })));
    await Promise.all(before.map((e) => api.finalEvent(env.stack, e.id)));

    await killRedis();
    const during = await Promise.all([4, 5, 6].map((n) => api.send(env.stack, { type, data: { n } })));
    const failing = await Promise.all(
      during.map((e) => api.eventWhen(env.stack, e.id, (v) => v.deliveries[0]?.attempts >= 1, 20_000, 'a failed attempt')),
    );
    for (const view of failing)
      expect(view.deliveries[0]).toMatchObject({
        status: 'retrying',
        lastResponseStatus: null,
        error: expect.stringMatching(/ECONNREFUSED|closed|Socket/i),
      });

    await startRedis();
    const after = await api.send(env.stack, { type, data: { n: 7 } });
    const all = [...before, ...during, after];
    const finals = await Promise.all(all.map((e) => api.finalEvent(env.stack, e.id, 30_000)));
    expect(finals.map((v) => v.deliveries[0].status)).toEqual(Array(7).fill('succeeded'));

    const reader = createClient({ url: `redis://127.0.0.1:${port}` });
    await reader.connect();
    const entries = (await reader.xRange(stream, '-', '+')) ?? [];
    await reader.close();
    // Every accepted event is in the stream under its delivery's id; a second copy carries the same id and event.
    const eventOf = new Map<string, Set<string>>();
    for (const { message } of entries) eventOf.set(message.id, (eventOf.get(message.id) ?? new Set()).add(JSON.parse(message.body).id));
    expect(new Map([...eventOf].map(([id, events]) => [id, [...events]]))).toEqual(
      new Map(finals.map((v) => [v.deliveries[0].messageId, [v.event.id]])),
    );
  });

  test('an MQTT broker not yet listening: the attempt fails as connection refused, and the message arrives once it is up', async () => {
    const type = `brokers.mqttdown${run}`;
    const topic = `herald/down/${run}`;
    const mqttPort = await freePort(); // nothing listens there yet
    const conf = path.join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\n`);
    // Three seconds between attempts: time to start the broker and subscribe before the retry publishes.
    const created = await env.stack.request('POST', '/v1/subscriptions', {
      channel: 'mqtt',
      eventTypes: [type],
      target: { url: `mqtt://127.0.0.1:${mqttPort}`, topic },
      retry: { schedule: Array(5).fill('3s') },
    });
    expect(created.status).toBe(201);
    const { id } = await api.send(env.stack, { type, data: {} });
    const failing = await api.eventWhen(env.stack, id, (v) => v.deliveries[0]?.attempts >= 1, 20_000, 'a failed attempt');
    expect(failing.deliveries[0]).toMatchObject({ status: 'retrying', error: expect.stringMatching(/ECONNREFUSED/) });

    await startMosquitto(conf, mqttPort);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5 });
    cleanups.push(() => client.endAsync());
    const ids: unknown[] = [];
    client.on('message', (_t, _p, packet) => ids.push(packet.properties?.userProperties?.['webhook-id']));
    await client.subscribeAsync(topic, { qos: 1 });

    const final = await api.finalEvent(env.stack, id, 30_000);
    expect(final.deliveries[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    await eventually(() => ids.length === 1, 10_000, 'the MQTT message');
    expect(ids).toEqual([final.deliveries[0].messageId]);
  });

  test('an MQTT broker that closes the connection before answering fails the attempt, and the next attempt connects anew', async () => {
    const type = `brokers.mqttclosing${run}`;
    const topic = `herald/closing/${run}`;
    const mqttPort = await freePort();
    // Accepts and closes at once, as a broker at its connection limit does.
    const sockets = new Set<net.Socket>();
    const closing = net.createServer((socket) => {
      sockets.add(socket.on('close', () => sockets.delete(socket)));
      socket.end();
    });
    await new Promise<void>((resolve) => closing.listen(mqttPort, '127.0.0.1', resolve));
    const created = await env.stack.request('POST', '/v1/subscriptions', {
      channel: 'mqtt',
      eventTypes: [type],
      target: { url: `mqtt://127.0.0.1:${mqttPort}`, topic },
      timeoutMs: 2_000,
      retry: { schedule: Array(5).fill('3s') },
    });
    expect(created.status).toBe(201);
    const { id } = await api.send(env.stack, { type, data: {} });
    const failing = await api.eventWhen(env.stack, id, (v) => v.deliveries[0]?.attempts >= 1, 20_000, 'a failed attempt');
    expect(failing.deliveries[0]).toMatchObject({ status: 'retrying', error: expect.stringMatching(/connect/i) });

    const closed = new Promise((resolve) => closing.close(resolve));
    for (const socket of sockets) socket.destroy(); // the client's side may stay half open
    await closed;

    const conf = path.join(dir, 'mosquitto-closing.conf');
    writeFileSync(conf, `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\n`);
    await startMosquitto(conf, mqttPort);
    const final = await api.finalEvent(env.stack, id, 30_000);
    expect(final.deliveries[0]).toMatchObject({ status: 'succeeded' });
  });
});
