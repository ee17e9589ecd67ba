import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import type { NatsTarget } from '../../store';
import { answerOn, brokerChannel, webhookHeaders, withDeadline, type BrokerPublisher } from './broker-channel';
import type { PooledConnection } from './pool';

/**
 * NATS JetStream: one JetStream publish per delivery with `Nats-Msg-Id` = the `webhook-id`, so
 * the stream drops a retried attempt's copy within its duplicate window (the ack says
 * `duplicate`). A subject no stream captures has no responder: a failed attempt, not a core
 * NATS publish that nobody stores.
 */

interface NatsPooled extends PooledConnection {
  nc: NatsConnection;
}

async function openNats(dialUrl: string, timeoutMs: number, broken: () => void): Promise<NatsPooled> {
  const url = new URL(dialUrl);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const nc = await connect({
    servers: url.port ? url.host : `${url.host}:4222`,
    ...(pass ? { user, pass } : user ? { token: user } : {}),
    ...(url.protocol === 'tls:' && { tls: {} }),
    name: 'herald',
    timeout: timeoutMs,
    // The pool reconnects: a lost connection is forgotten and the next attempt opens another,
    // rather than publishes waiting in the client's buffer for a server that may not return.
    reconnect: false,
  });
  void nc.closed().then(broken);
  return { nc, close: () => nc.close().catch(() => undefined) };
}

const publisher: BrokerPublisher<NatsTarget['target']> = {
  kind: 'nats',

  destination: (target) => ({ subject: target.subject }),

  async publish(request) {
    const { pool, url, dialUrl, target, message, timeoutMs, signal } = request;
    const connection = await withDeadline(
      pool.connection('nats', url, (broken) => openNats(dialUrl, timeoutMs, broken)),
      timeoutMs,
      signal,
      'NATS connect',
    );
    const { nc } = connection;
    const h = natsHeaders();
    for (const [name, value] of Object.entries(webhookHeaders(message))) h.set(name, value);
    h.set('herald-event-type', message.type);
    try {
      const ack = await answerOn(
        request,
        'nats',
        connection,
        nc.jetstream().publish(target.subject, Buffer.from(message.body), { msgID: message.id, headers: h, timeout: timeoutMs }),
        'JetStream publish',
      );
      return `stream "${ack.stream}" seq ${ack.seq}${ack.duplicate ? ' (duplicate: the stream had this Nats-Msg-Id already)' : ''}`;
    } catch (err) {
      if ((err as { code?: string }).code === '503')
        throw new Error(`no JetStream stream captures subject "${target.subject}" (503 no responders)`);
      throw err;
    }
  },
};

export const natsChannel = brokerChannel<NatsTarget>('nats', publisher);
