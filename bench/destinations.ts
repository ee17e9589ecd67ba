import amqp from 'amqplib';
import mqtt from 'mqtt';
import { connect as natsConnect } from 'nats';
import { createClient } from 'redis';
import type { BrokerChannel } from '../src/domain/channels';

/**
 * The `destinations` scenario's consumers: for each broker on this machine (RabbitMQ, NATS
 * JetStream, Redis, Mosquitto on their default loopback ports), a target named for the run
 * and a consumer that counts the distinct `webhook-id`s it has seen, so deliveries/s per
 * destination kind is measured where a user's consumer would see the messages. Each removes
 * what it made when closed.
 */

export interface DestinationConsumer {
  /** The subscription's `target`. */
  target: Record<string, unknown>;
  /** Distinct messages available to a consumer so far. */
  distinct(): Promise<number>;
  close(): Promise<void>;
}

export async function brokerConsumer(kind: BrokerChannel, run: string): Promise<DestinationConsumer> {
  const name = `herald-bench-${run}`;
  switch (kind) {
    case 'rabbitmq': {
      const url = 'amqp://guest:guest@127.0.0.1:5672/';
      const conn = await amqp.connect(url);
      const ch = await conn.createChannel();
      await ch.assertExchange(name, 'fanout', { durable: false });
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, name, '');
      const ids = new Set<string>();
      await ch.consume(queue, (msg) => msg && ids.add(String(msg.properties.messageId)), { noAck: true });
      return {
        target: { url, exchange: name },
        distinct: () => Promise.resolve(ids.size),
        close: async () => {
          await ch.deleteExchange(name);
          await conn.close();
        },
      };
    }
    case 'nats': {
      const nc = await natsConnect({ servers: '127.0.0.1:4222' });
      const jsm = await nc.jetstreamManager();
      const stream = name.replace(/-/g, '_').toUpperCase();
      const subject = `herald.bench.${run}`;
      await jsm.streams.add({ name: stream, subjects: [subject] });
      return {
        target: { url: 'nats://127.0.0.1:4222', subject },
        // JetStream drops a copy with a Nats-Msg-Id it has: what it stores is distinct.
        distinct: async () => (await jsm.streams.info(stream)).state.messages,
        close: async () => {
          await jsm.streams.delete(stream);
          await nc.close();
        },
      };
    }
    case 'redis': {
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      await client.connect();
      const ids = new Set<string>();
      let last = '-';
      return {
        target: { url: 'redis://127.0.0.1:6379/0', stream: name },
        distinct: async () => {
          for (const entry of (await client.xRange(name, last === '-' ? '-' : `(${last}`, '+')) ?? []) {
            ids.add(entry.message.id);
            last = entry.id;
          }
          return ids.size;
        },
        close: async () => {
          await client.del(name);
          await client.close();
        },
      };
    }
    case 'mqtt': {
      const topic = `herald/bench/${run}`;
      const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
      const ids = new Set<string>();
      client.on('message', (_topic, _payload, packet) => ids.add(String(packet.properties?.userProperties?.['webhook-id'])));
      await client.subscribeAsync(topic, { qos: 1 });
      return {
        target: { url: 'mqtt://127.0.0.1:1883', topic },
        distinct: () => Promise.resolve(ids.size),
        close: () => client.endAsync(),
      };
    }
  }
}
