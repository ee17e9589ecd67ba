import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttTarget } from '../../store';
import { answerOn, brokerChannel, webhookHeaders, withDeadline, type BrokerPublisher } from './broker-channel';
import type { PooledConnection } from './pool';

/**
 * MQTT 5: one QoS 1 publish of the webhook body per delivery, the `webhook-*` headers as user
 * properties; the attempt succeeds on the broker's PUBACK. QoS 1 is at least once: a consumer
 * recognises a second copy by its `webhook-id`.
 */

interface MqttPooled extends PooledConnection {
  client: MqttClient;
}

async function openMqtt(dialUrl: string, timeoutMs: number, broken: () => void): Promise<MqttPooled> {
  const client = await mqtt.connectAsync(
    dialUrl,
    {
      protocolVersion: 5,
      clientId: `herald-${randomBytes(6).toString('hex')}`,
      connectTimeout: timeoutMs,
      // The pool reconnects (see ./pool.ts): a lost connection is forgotten, not retried in the background.
      reconnectPeriod: 0,
    },
    // No retries: a connection the broker closes before its CONNACK (at its connection limit,
    // restarting) fails the connect. With them the promise never settles, and the pool would
    // hand that connect to every later attempt.
    false,
  );
  client.on('error', () => undefined); // 'close' follows and drops it
  client.on('close', broken);
  return { client, close: () => client.endAsync(true).catch(() => undefined) };
}

const publisher: BrokerPublisher<MqttTarget['target']> = {
  kind: 'mqtt',

  destination: (target) => ({ topic: target.topic, qos: '1' }),

  async publish(request) {
    const { pool, url, dialUrl, target, message, timeoutMs, signal } = request;
    const connection = await withDeadline(
      pool.connection('mqtt', url, (broken) => openMqtt(dialUrl, timeoutMs, broken)),
      timeoutMs,
      signal,
      'MQTT connect',
    );
    const puback = await answerOn(
      request,
      'mqtt',
      connection,
      connection.client.publishAsync(target.topic, message.body, {
        qos: 1,
        properties: {
          contentType: 'application/json',
          userProperties: { ...webhookHeaders(message), 'herald-event-type': message.type },
        },
      }),
      'MQTT PUBACK',
    );
    const reason = (puback as { reasonCode?: number } | undefined)?.reasonCode;
    return `PUBACK${reason ? ` reason ${reason}` : ''} on topic "${target.topic}"`;
  },
};

export const mqttChannel = brokerChannel<MqttTarget>('mqtt', publisher);
