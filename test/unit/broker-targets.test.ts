import { randomBytes } from 'node:crypto';
import { channelOf, targetOf, targetRefusal } from '../../src/channels';
import { answerOn } from '../../src/channels/brokers/broker-channel';
import { dialableUrl, type Lookup } from '../../src/channels/brokers/guard';
import { createBrokerPool } from '../../src/channels/brokers/pool';
import { redactUrl } from '../../src/domain/broker-targets';
import { subscriptionCreateSchema, type SubscriptionCreate } from '../../src/domain/schemas';
import { createSecretBox } from '../../src/security/secret-box';
import type { SubscriptionDoc } from '../../src/store';

/**
 * The broker channels' targets as the API takes them (docs/api.md section 7): validated with
 * the path of each problem, refused on a private host before any dial, sealed at rest and
 * redacted in views. Nothing here opens a connection; the guard's lookup is a stand-in.
 */

const box = createSecretBox(randomBytes(32));

const paths = (input: unknown) => subscriptionCreateSchema.safeParse(input).error?.issues.map((i) => [i.path.join('.'), i.message]);

describe('broker targets at subscription time', () => {
  const base = { eventTypes: ['order.paid'] };

  test.each([
    ['rabbitmq', { url: 'amqp://guest:guest@127.0.0.1:5672/', exchange: 'orders' }],
    ['rabbitmq', { url: 'amqps://broker.example.com/prod', exchange: '', routingKey: 'orders.paid' }],
    ['nats', { url: 'nats://127.0.0.1:4222', subject: 'herald.orders' }],
    ['redis', { url: 'redis://:pw@127.0.0.1:6379/0', stream: 'orders', maxLen: 1000 }],
    ['redis', { url: 'redis://127.0.0.1:6379/', stream: 'orders' }],
    ['rabbitmq', { url: 'amqp://127.0.0.1', exchange: 'x', routingKey: 'ü'.repeat(127) }],
    ['mqtt', { url: 'mqtt://127.0.0.1:1883', topic: 'home/orders/paid' }],
  ])('a well-formed %s target is accepted', (channel, target) => {
    expect(paths({ ...base, channel, target })).toBeUndefined();
  });

  test.each([
    ['rabbitmq', { url: 'http://127.0.0.1:5672', exchange: 'x' }, 'target.url', 'must be a amqp://host or amqps://host URL'],
    ['rabbitmq', { url: 'amqp://127.0.0.1' }, 'target.exchange', expect.stringMatching(/expected string/)],
    ['rabbitmq', { url: 'amqp://127.0.0.1', exchange: 'has space' }, 'target.exchange', expect.stringMatching(/^must be letters/)],
    ['nats', { url: 'nats://127.0.0.1', subject: 'orders.>' }, 'target.subject', expect.stringMatching(/without wildcards/)],
    ['nats', { url: 'nats://127.0.0.1', subject: 'orders..paid' }, 'target.subject', expect.stringMatching(/empty tokens/)],
    ['redis', { url: 'redis://127.0.0.1', stream: 's', maxLen: 0 }, 'target.maxLen', expect.stringMatching(/>=1/)],
    ['redis', { url: 'redis://127.0.0.1', stream: 's', maxlen: 5 }, 'target.maxlen', 'unknown field for channel "redis"'],
    ['mqtt', { url: 'mqtt://127.0.0.1', topic: 'home/+/paid' }, 'target.topic', expect.stringMatching(/no "\+" or "#" wildcards/)],
    ['mqtt', { url: 'nats://127.0.0.1', topic: 't' }, 'target.url', 'must be a mqtt://host or mqtts://host URL'],
    // 200 characters, 400 bytes: AMQP counts bytes.
    [
      'rabbitmq',
      { url: 'amqp://127.0.0.1', exchange: 'x', routingKey: 'ü'.repeat(200) },
      'target.routingKey',
      expect.stringMatching(/at most 255 bytes/),
    ],
    ['redis', { url: 'redis://127.0.0.1/abc', stream: 's' }, 'target.url', 'must name a database by its number, e.g. /0, or none'],
    ['redis', { url: 'redis://127.0.0.1/0/x', stream: 's' }, 'target.url', 'must name a database by its number, e.g. /0, or none'],
  ])('a malformed %s target is refused on its path (%j)', (channel, target, path, message) => {
    expect(paths({ ...base, channel, target })).toEqual([[path, message]]);
  });

  test('a broker channel needs its target, and refuses the webhook fields', () => {
    expect(paths({ ...base, channel: 'nats' })).toEqual([['target', 'is required for channel "nats"']]);
    expect(paths({ ...base, channel: 'redis', url: 'https://example.com/', target: { url: 'redis://h', stream: 's' } })).toEqual([
      ['url', 'applies to channel "webhook" only'],
    ]);
  });

  test('a webhook refuses a target, naming the channels it belongs to', () => {
    expect(paths({ ...base, channel: 'webhook', url: 'https://example.com/', target: { url: 'x' } })).toEqual([
      ['target', 'applies to channel "rabbitmq", "nats", "redis", "mqtt" only'],
    ]);
  });
});

describe('the private-target guard on broker hosts', () => {
  const refusal = (channel: string, url: string) =>
    targetRefusal({ channel, target: { url, subject: 's', exchange: 'e', stream: 's', topic: 't' } }, false);

  test.each([
    ['rabbitmq', 'amqp://guest:guest@10.1.2.3:5672/', 'address 10.1.2.3 is in a refused range (private)'],
    ['nats', 'nats://localhost:4222', 'host "localhost" is loopback'],
    ['redis', 'redis://169.254.169.254:6379', 'address 169.254.169.254 is in a refused range (linkLocal)'],
    ['mqtt', 'mqtt://[::1]:1883', 'address ::1 is in a refused range (loopback)'],
    ['redis', 'redis://metadata.google.internal', 'host "metadata.google.internal" is a cloud metadata service'],
  ])('a %s target at %s is refused at subscription time', (channel, url, reason) => {
    expect(refusal(channel, url)).toEqual({ path: 'target.url', message: `target refused: ${reason}` });
  });

  test('a public host passes, and private hosts pass when the operator allows them', () => {
    expect(refusal('nats', 'nats://203.0.113.10:4222')).toEqual(
      expect.objectContaining({ message: expect.stringMatching(/reserved/) }), // TEST-NET-3 is not routable either
    );
    expect(refusal('nats', 'nats://nats.example.com:4222')).toBeNull();
    expect(targetRefusal({ target: { url: 'amqp://10.1.2.3' } }, true)).toBeNull();
  });

  const lookupAnswering =
    (...addresses: string[]): Lookup =>
    () =>
      Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

  test('before dialling, a name is resolved and refused when any of its addresses is private', async () => {
    await expect(dialableUrl('amqp://u:p@rebind.example.com/', false, lookupAnswering('93.184.216.34', '10.0.0.7'))).rejects.toThrow(
      'target rebind.example.com refused: address 10.0.0.7 is in a refused range (private)',
    );
    await expect(dialableUrl('redis://cache.example.com', false, lookupAnswering('fd00::5'))).rejects.toThrow(/uniqueLocal/);
  });

  test('a plaintext URL is dialled at the address that was checked; a TLS URL keeps its name for the certificate', async () => {
    const lookup = lookupAnswering('93.184.216.34');
    await expect(dialableUrl('amqp://u:p@mq.example.com:5672/vh', false, lookup)).resolves.toBe('amqp://u:p@93.184.216.34:5672/vh');
    await expect(dialableUrl('mqtt://mq.example.com:1883', false, lookupAnswering('2606:2800:220:1::1'))).resolves.toBe(
      'mqtt://[2606:2800:220:1::1]:1883',
    );
    await expect(dialableUrl('amqps://mq.example.com/vh', false, lookup)).resolves.toBe('amqps://mq.example.com/vh');
  });

  test('with private targets allowed nothing is looked up', async () => {
    const lookup: Lookup = () => Promise.reject(new Error('looked up'));
    await expect(dialableUrl('nats://127.0.0.1:4222', true, lookup)).resolves.toBe('nats://127.0.0.1:4222');
  });
});

describe('broker credentials at rest and in views', () => {
  const create = (channel: string, target: Record<string, unknown>) =>
    subscriptionCreateSchema.parse({ eventTypes: ['a.b'], channel, target });
  const stored = (input: SubscriptionCreate) => ({ ...targetOf(input, box), _id: 'sub_1' }) as unknown as SubscriptionDoc;

  test('a password in the URL is sealed, and shown as *** ever after', () => {
    const doc = stored(create('rabbitmq', { url: 'amqp://herald:s3cr%40t@mq.example.com:5672/prod', exchange: 'orders' }));
    const target = (doc as unknown as { target: Record<string, string> }).target;
    expect(target.url).toBe('amqp://herald:***@mq.example.com:5672/prod');
    expect(JSON.stringify(doc)).not.toContain('s3cr');
    expect(box.open(target.sealedUrl)).toBe('amqp://herald:s3cr%40t@mq.example.com:5672/prod');
    expect(channelOf(doc).view()).toEqual({ target: { url: 'amqp://herald:***@mq.example.com:5672/prod', exchange: 'orders' } });
  });

  test('a lone user part is a token to NATS and Redis: it is sealed too', () => {
    expect(redactUrl('nats://t0ken@nats.example.com:4222')).toBe('nats://***@nats.example.com:4222');
    const doc = stored(create('nats', { url: 'nats://t0ken@nats.example.com:4222', subject: 'a.b' }));
    expect(JSON.stringify(channelOf(doc).view())).not.toContain('t0ken');
  });

  test('a URL without credentials is stored as given, with nothing sealed', () => {
    const doc = stored(create('mqtt', { url: 'mqtt://mq.example.com:1883', topic: 'a/b' }));
    expect((doc as unknown as { target: object }).target).toEqual({ url: 'mqtt://mq.example.com:1883', topic: 'a/b' });
  });
});

describe('the broker connection pool', () => {
  const fake = () => {
    const c = { closed: 0, close: () => Promise.resolve(void c.closed++) };
    return c;
  };

  test('one connection per kind and URL, reused; a broken one is replaced; all are closed at the end', async () => {
    const pool = createBrokerPool();
    let opened = 0;
    const breakers: (() => void)[] = [];
    const open = (broken: () => void) => {
      opened++;
      breakers.push(broken);
      return Promise.resolve(fake());
    };
    const a = await pool.connection('redis', 'redis://h/0', open);
    expect(await pool.connection('redis', 'redis://h/0', open)).toBe(a);
    const b = await pool.connection('redis', 'redis://h/1', open);
    const c = await pool.connection('nats', 'redis://h/0', open);
    expect([opened, pool.size()]).toEqual([3, 3]);

    breakers[0]();
    const a2 = await pool.connection('redis', 'redis://h/0', open);
    expect(a2).not.toBe(a);
    expect(opened).toBe(4);

    pool.discard('redis', 'redis://h/1', b);
    expect(b.closed).toBe(1);
    expect(pool.size()).toBe(2);

    await pool.close();
    expect([a2.closed, c.closed, pool.size()]).toEqual([1, 1, 0]);
    await expect(pool.connection('redis', 'redis://h/0', open)).rejects.toThrow(/stopping/);
  });

  test('a connection no attempt took for a while is closed, and one in use stays', async () => {
    // Idle after 1 s, swept every 0.5 s; the busy one is taken every 50 ms, leaving room for a slow machine.
    const pool = createBrokerPool(1_000);
    const open = () => Promise.resolve(fake());
    const idle = await pool.connection('redis', 'redis://old-password@h', open);
    const busy = await pool.connection('redis', 'redis://new-password@h', open);
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      await pool.connection('redis', 'redis://new-password@h', open);
    }
    expect([idle.closed, busy.closed, pool.size()]).toEqual([1, 0, 1]);
    expect(await pool.connection('redis', 'redis://new-password@h', open)).toBe(busy);
    await pool.close();
  });

  test('a failed connect is not kept: the next attempt dials again', async () => {
    const pool = createBrokerPool();
    let tries = 0;
    const open = () => (++tries === 1 ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(fake()));
    await expect(pool.connection('mqtt', 'mqtt://h', open)).rejects.toThrow('ECONNREFUSED');
    await expect(pool.connection('mqtt', 'mqtt://h', open)).resolves.toBeDefined();
    expect(tries).toBe(2);
    await pool.close();
  });

  test('a connection that does not answer within the deadline is dropped, so the next attempt opens another', async () => {
    const pool = createBrokerPool();
    const open = () => Promise.resolve(fake());
    const silent = await pool.connection('nats', 'nats://h', open);
    const request = { pool, url: 'nats://h', timeoutMs: 20, signal: new AbortController().signal };
    await expect(answerOn(request, 'nats', silent, new Promise(() => undefined), 'JetStream publish')).rejects.toThrow(
      'JetStream publish: no answer within 20 ms',
    );
    expect(silent.closed).toBe(1);
    expect(await pool.connection('nats', 'nats://h', open)).not.toBe(silent);

    // A refusal is an answer: the connection stays.
    const kept = await pool.connection('nats', 'nats://h', open);
    await expect(answerOn(request, 'nats', kept, Promise.reject(new Error('503')), 'JetStream publish')).rejects.toThrow('503');
    expect(await pool.connection('nats', 'nats://h', open)).toBe(kept);
    await pool.close();
  });
});
