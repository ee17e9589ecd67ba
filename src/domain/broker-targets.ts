import { z } from 'zod';
import type { BrokerChannel } from './channels';

/**
 * The targets of the broker channels (docs/api.md section 7), validated at subscription time
 * so that a malformed one is a 400 naming its path instead of a delivery failing later. Pure:
 * the API's schemas and the channel modules (src/channels/brokers/) both use these.
 */

/** The URL schemes each broker's client dials; the second of each is its TLS form. */
export const BROKER_SCHEMES = {
  rabbitmq: ['amqp:', 'amqps:'],
  nats: ['nats:', 'tls:'],
  redis: ['redis:', 'rediss:'],
  mqtt: ['mqtt:', 'mqtts:'],
} as const satisfies Record<BrokerChannel, readonly string[]>;

const brokerUrl = (channel: BrokerChannel) => {
  const schemes: readonly string[] = BROKER_SCHEMES[channel];
  return z
    .string()
    .max(2048)
    .refine((u) => URL.canParse(u) && schemes.includes(new URL(u).protocol) && new URL(u).hostname !== '', {
      message: `must be a ${schemes.map((s) => `${s}//host`).join(' or ')} URL`,
    });
};

/** A name a broker routes by: printable, no spaces (AMQP exchange and routing keys, NATS subjects, stream keys, MQTT topics). */
const routingName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** AMQP 0-9-1's short strings (routing keys, exchange names) hold at most 255 bytes. */
export const AMQP_SHORTSTR_BYTES = 255;
export const utf8Bytes = (text: string) => Buffer.byteLength(text);

export const rabbitmqTargetSchema = z.strictObject({
  url: brokerUrl('rabbitmq').describe('amqp://user:pass@host:5672/vhost; the password is sealed at rest'),
  exchange: z
    .string()
    .max(255)
    .regex(/^[A-Za-z0-9_.:-]*$/, 'must be letters, digits, "-", "_", ".", ":" (or empty: the default exchange)'),
  routingKey: z
    .string()
    .refine((key) => utf8Bytes(key) <= AMQP_SHORTSTR_BYTES, {
      message: `must be at most ${AMQP_SHORTSTR_BYTES} bytes in UTF-8 (AMQP's limit)`,
    })
    .optional()
    .describe("default: the event's type"),
});

export const natsTargetSchema = z.strictObject({
  url: brokerUrl('nats').describe('nats://user:pass@host:4222 (or nats://token@host:4222); credentials are sealed at rest'),
  subject: routingName(255).refine((s) => !/(^|\.)[*>](\.|$)/.test(s) && !s.startsWith('.') && !s.endsWith('.') && !s.includes('..'), {
    message: 'must be a NATS subject without wildcards or empty tokens',
  }),
});

export const redisTargetSchema = z.strictObject({
  url: brokerUrl('redis')
    // The client reads the path as the database number and refuses any other.
    .refine((u) => !URL.canParse(u) || /^\/?\d{0,5}$/.test(new URL(u).pathname), {
      message: 'must name a database by its number, e.g. /0, or none',
    })
    .describe('redis://user:pass@host:6379/0; the password is sealed at rest'),
  stream: routingName(512),
  maxLen: z.number().int().min(1).max(1_000_000_000).optional().describe('XADD MAXLEN: the stream is trimmed to this many entries'),
});

export const mqttTargetSchema = z.strictObject({
  url: brokerUrl('mqtt').describe('mqtt://user:pass@host:1883; the password is sealed at rest'),
  topic: z
    .string()
    .min(1)
    .max(1024)
    .refine((t) => !/[#+\0]/.test(t), { message: 'must be a topic to publish to: no "+" or "#" wildcards' }),
});

export const BROKER_TARGET_SCHEMAS = {
  rabbitmq: rabbitmqTargetSchema,
  nats: natsTargetSchema,
  redis: redisTargetSchema,
  mqtt: mqttTargetSchema,
} as const satisfies Record<BrokerChannel, z.ZodType>;

export type RabbitmqTargetInput = z.infer<typeof rabbitmqTargetSchema>;
export type NatsTargetInput = z.infer<typeof natsTargetSchema>;
export type RedisTargetInput = z.infer<typeof redisTargetSchema>;
export type MqttTargetInput = z.infer<typeof mqttTargetSchema>;

/** What replaces a credential in a URL that is shown or audited. */
export const REDACTED_CREDENTIAL = '***';

/**
 * The URL as it may be shown: a password replaced by `***`, and a lone user part too, since
 * NATS and Redis read a user part without a password as a token.
 */
export function redactUrl(text: string): string {
  const url = new URL(text);
  if (url.password) url.password = REDACTED_CREDENTIAL;
  else if (url.username) url.username = REDACTED_CREDENTIAL;
  return url.toString();
}

/** True when the URL carries credentials that must be sealed before it is stored. */
export const hasCredentials = (text: string): boolean => {
  const url = new URL(text);
  return url.username !== '' || url.password !== '';
};
