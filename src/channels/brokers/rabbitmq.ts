import amqp, { type ConfirmChannel, type Message } from 'amqplib';
import type { RabbitmqTarget } from '../../store';
import { AMQP_SHORTSTR_BYTES, utf8Bytes } from '../../domain/broker-targets';
import { brokerChannel, NoAnswerError, UnpublishableError, webhookHeaders, withDeadline, type BrokerPublisher } from './broker-channel';
import type { PooledConnection } from './pool';

/**
 * RabbitMQ (AMQP 0-9-1): one persistent message per delivery on a confirm channel, `mandatory`
 * so that a message no queue is bound to receive comes back (basic.return) and fails the
 * attempt instead of vanishing; the attempt succeeds only on the broker's confirm.
 */

interface AmqpConnection extends PooledConnection {
  channel: ConfirmChannel;
  /** Why the broker returned a message, by its messageId, until the message's confirm is seen. */
  returned: Map<string, string>;
  /** The broker's reason for closing the channel (a publish to an exchange that does not exist closes it). */
  closedBecause?: string;
  /** The channel closed: its messages waiting for a confirm failed with it. */
  closed: boolean;
}

async function openAmqp(dialUrl: string, timeoutMs: number, broken: () => void): Promise<AmqpConnection> {
  const model = await amqp.connect(dialUrl, { timeout: timeoutMs, clientProperties: { connection_name: 'herald' } });
  // Without a listener an 'error' would end the worker; the 'close' that follows it drops the connection.
  model.on('error', () => undefined);
  let channel: ConfirmChannel;
  try {
    channel = await model.createConfirmChannel();
  } catch (err) {
    await model.close().catch(() => undefined);
    throw err;
  }
  const connection: AmqpConnection = {
    channel,
    returned: new Map(),
    closed: false,
    close: () => model.close().catch(() => undefined),
  };
  channel.on('return', (msg: Message) => {
    const { replyCode, replyText, exchange, routingKey } = msg.fields as unknown as Record<string, unknown>;
    connection.returned.set(
      String(msg.properties.messageId),
      `returned unroutable: ${String(replyCode)} ${String(replyText)} (exchange "${String(exchange)}", routing key "${String(routingKey)}")`,
    );
  });
  channel.on('error', (err: Error) => (connection.closedBecause = err.message));
  // A closed channel cannot publish again: the whole connection goes, and the next attempt opens another.
  channel.on('close', () => {
    connection.closed = true;
    broken();
    void connection.close();
  });
  model.on('close', broken);
  return connection;
}

const publisher: BrokerPublisher<RabbitmqTarget['target']> = {
  kind: 'rabbitmq',

  destination: (target, message) => ({ exchange: target.exchange, routingKey: target.routingKey ?? message.type }),

  async publish({ pool, url, dialUrl, target, message, timeoutMs, signal }) {
    const routingKey = target.routingKey ?? message.type;
    // Before the connect: a broker that is down must not turn this into a schedule of retries.
    if (utf8Bytes(routingKey) > AMQP_SHORTSTR_BYTES) {
      throw new UnpublishableError(
        target.routingKey === undefined
          ? `the routing key, the event's type, is longer than AMQP's ${AMQP_SHORTSTR_BYTES} bytes: set the subscription's routingKey`
          : `the subscription's routingKey is longer than AMQP's ${AMQP_SHORTSTR_BYTES} bytes: set a shorter one`,
      );
    }
    // A connection per exchange: a publish to a missing exchange closes its channel, and with it
    // every publish waiting for a confirm there, which would then be other subscriptions' too.
    const poolKey = `${url}\n${target.exchange}`;
    const connection = await withDeadline(
      pool.connection('rabbitmq', poolKey, (broken) => openAmqp(dialUrl, timeoutMs, broken)),
      timeoutMs,
      signal,
      'AMQP connect',
    );
    const confirmed = new Promise<void>((resolve, reject) => {
      connection.channel.publish(
        target.exchange,
        routingKey,
        Buffer.from(message.body),
        {
          persistent: true,
          mandatory: true,
          messageId: message.id,
          timestamp: message.timestamp,
          type: message.type,
          contentType: 'application/json',
          headers: { ...webhookHeaders(message), 'herald-event-type': message.type },
        },
        (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('the broker did not confirm the message')) : resolve()),
      );
    });
    try {
      await withDeadline(confirmed, timeoutMs, signal, 'AMQP publisher confirm');
    } catch (err) {
      if (signal.aborted) throw err;
      const refusal = err instanceof Error ? err.message : String(err);
      // A nack (a queue refusing publishes, say) is this message's alone: the channel goes on.
      if (!connection.closed && !(err instanceof NoAnswerError)) throw new Error(`the broker refused the message: ${refusal}`);
      pool.discard('rabbitmq', poolKey, connection); // closed, or its state unknown: the next attempt starts afresh
      throw new Error(connection.closedBecause ?? refusal);
    }
    // The broker sends basic.return before the confirm of the same message.
    const returned = connection.returned.get(message.id);
    connection.returned.delete(message.id);
    if (returned) throw new Error(returned);
    return `confirmed: exchange "${target.exchange}", routing key "${routingKey}"`;
  },
};

export const rabbitmqChannel = brokerChannel<RabbitmqTarget>('rabbitmq', publisher);
