import { CHANNEL_NAMES, type ChannelName } from '../domain/channels';
import type { SubscriptionCreate } from '../domain/schemas';
import type { SecretBox } from '../security/secret-box';
import type { SubscriptionDoc, SubscriptionTarget } from '../store';
import type { AttemptContext, Channel, MessageContent } from './channel';
import { mqttChannel } from './brokers/mqtt';
import { natsChannel } from './brokers/nats';
import { rabbitmqChannel } from './brokers/rabbitmq';
import { redisChannel } from './brokers/redis';
import { emailChannel } from './email';
import { webhookChannel } from './webhook';

/** The channel registry: one line per channel. */
const CHANNELS: { [K in ChannelName]: Channel<Extract<SubscriptionTarget, { channel: K }>> } = {
  webhook: webhookChannel,
  email: emailChannel,
  rabbitmq: rabbitmqChannel,
  nats: natsChannel,
  redis: redisChannel,
  mqtt: mqttChannel,
};

// TypeScript cannot tie `CHANNELS[sub.channel]` to the narrowed type of `sub` (a correlated
// union), so the lookups below widen the entry; the registry's type above keeps each right.
const channelNamed = (name: ChannelName) => CHANNELS[name] as Channel<SubscriptionTarget>;

/** A subscription's channel, bound to it. */
export function channelOf(sub: SubscriptionDoc) {
  const channel = channelNamed(sub.channel);
  return {
    view: () => channel.view(sub),
    preview: (content: MessageContent) => channel.preview(sub, content),
    prepare: (attempt: AttemptContext) => channel.prepare(sub, attempt),
  };
}

export const targetOf = (input: SubscriptionCreate, box: SecretBox): SubscriptionTarget => channelNamed(input.channel).targetOf(input, box);

/**
 * The first target field, of any channel, known to be refused before anything is stored. Each
 * channel looks only at its own fields, so a patch is checked before its subscription is read.
 */
export function targetRefusal(fields: Record<string, unknown>, allowPrivateTargets: boolean) {
  for (const name of CHANNEL_NAMES) {
    const refusal = channelNamed(name).refusal(fields, allowPrivateTargets);
    if (refusal) return refusal;
  }
  return null;
}
