/**
 * The channels a subscription delivers through, and which fields of a subscription belong to
 * each one's target. Pure: the API's schemas, the store's types and the channel modules
 * (src/channels/) all take the names from here.
 */

/** Message brokers: their target is one `target` object (src/domain/broker-targets.ts), as docs/api.md section 7 has it. */
export const BROKER_CHANNELS = ['rabbitmq', 'nats', 'redis', 'mqtt'] as const;
export type BrokerChannel = (typeof BROKER_CHANNELS)[number];

export const CHANNEL_NAMES = ['webhook', 'email', ...BROKER_CHANNELS] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export const isBrokerChannel = (channel: string): channel is BrokerChannel => (BROKER_CHANNELS as readonly string[]).includes(channel);

/** A webhook subscription's body format (src/domain/chat-formats.ts renders the chat ones); `standard` is the default. */
export const WEBHOOK_FORMATS = ['standard', 'slack', 'discord', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** The subscription fields that make up each channel's target; a channel that does not list one refuses it. */
export const TARGET_FIELDS = {
  webhook: ['url', 'headers', 'format', 'template'],
  email: ['to', 'subject', 'body', 'html'],
  rabbitmq: ['target'],
  nats: ['target'],
  redis: ['target'],
  mqtt: ['target'],
} as const satisfies Record<ChannelName, readonly string[]>;

/** The field without which a channel cannot send: required at create time. */
export const REQUIRED_TARGET_FIELD = {
  webhook: 'url',
  email: 'to',
  rabbitmq: 'target',
  nats: 'target',
  redis: 'target',
  mqtt: 'target',
} as const satisfies Record<ChannelName, string>;

/** The fields of other channels' targets that `fields` sets (non-null), to refuse them on `channel`. */
export function foreignTargetFields(channel: ChannelName, fields: Record<string, unknown>): { field: string; owner: string }[] {
  const own = new Set<string>(TARGET_FIELDS[channel]);
  const owners = new Map<string, ChannelName[]>();
  for (const owner of CHANNEL_NAMES) {
    for (const field of TARGET_FIELDS[owner]) if (!own.has(field)) owners.set(field, [...(owners.get(field) ?? []), owner]);
  }
  return [...owners]
    .filter(([field]) => fields[field] !== undefined && fields[field] !== null)
    .map(([field, by]) => ({ field, owner: by.join('", "') }));
}
