import { createClient } from 'redis';
import type { RedisTarget } from '../../store';
import { answerOn, brokerChannel, withDeadline, type BrokerPublisher } from './broker-channel';
import type { PooledConnection } from './pool';

/**
 * Redis Streams: one `XADD` per delivery with the fields `id` (the `webhook-id`), `type`,
 * `timestamp`, `body` and `signature`, trimmed to `maxLen` entries when the target sets it.
 * Streams do not dedupe: a consumer recognises a retried attempt's copy by its `id`.
 */

/**
 * A lone user part (`redis://<token>@host`) is the server's password, as for NATS (docs/api.md):
 * node-redis would take it for a user name with no password and not authenticate at all.
 */
function withTokenAsPassword(dialUrl: string): string {
  const url = new URL(dialUrl);
  if (!url.username || url.password) return dialUrl;
  url.password = url.username;
  url.username = '';
  return url.href;
}

const newClient = (dialUrl: string, timeoutMs: number) =>
  createClient({
    url: withTokenAsPassword(dialUrl),
    // The pool reconnects (see ./pool.ts); without the offline queue a command on a lost
    // connection fails at once instead of waiting for a server that may not return.
    socket: { connectTimeout: timeoutMs, reconnectStrategy: false },
    disableOfflineQueue: true,
  });

interface RedisPooled extends PooledConnection {
  client: ReturnType<typeof newClient>;
}

async function openRedis(dialUrl: string, timeoutMs: number, broken: () => void): Promise<RedisPooled> {
  const client = newClient(dialUrl, timeoutMs);
  client.on('error', broken);
  client.on('end', broken);
  try {
    await client.connect();
  } catch (err) {
    client.destroy();
    throw err;
  }
  return { client, close: () => client.close().catch(() => client.destroy()) };
}

const publisher: BrokerPublisher<RedisTarget['target']> = {
  kind: 'redis',

  destination: (target) => ({ stream: target.stream, ...(target.maxLen !== undefined && { maxLen: String(target.maxLen) }) }),

  async publish(request) {
    const { pool, url, dialUrl, target, message, timeoutMs, signal } = request;
    const connection = await withDeadline(
      pool.connection('redis', url, (broken) => openRedis(dialUrl, timeoutMs, broken)),
      timeoutMs,
      signal,
      'Redis connect',
    );
    const fields = {
      id: message.id,
      type: message.type,
      timestamp: String(message.timestamp),
      body: message.body,
      signature: message.signature,
    };
    const trim =
      target.maxLen === undefined
        ? undefined
        : { TRIM: { strategy: 'MAXLEN' as const, strategyModifier: '=' as const, threshold: target.maxLen } };
    const entry = await answerOn(request, 'redis', connection, connection.client.xAdd(target.stream, '*', fields, trim), 'XADD');
    return `entry ${entry} in stream "${target.stream}"`;
  },
};

export const redisChannel = brokerChannel<RedisTarget>('redis', publisher);
