/**
 * The channels a subscription delivers through, and which fields of a subscription belong to
 * each one's target. Pure: the API's schemas, the store's types and the channel modules
 * (src/channels/) all take the names from here.
 */

export const CHANNEL_NAMES = ['webhook', 'email'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** A webhook subscription's body format (src/domain/chat-formats.ts renders the chat ones); `standard` is the default. */
export const WEBHOOK_FORMATS = ['standard', 'slack', 'discord', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** The subscription fields that make up each channel's target; another channel refuses them. */
export const TARGET_FIELDS = {
  webhook: ['url', 'headers', 'format', 'template'],
  email: ['to', 'subject', 'body', 'html'],
} as const satisfies Record<ChannelName, readonly string[]>;

/** The field without which a channel cannot send: required at create time. */
export const REQUIRED_TARGET_FIELD = { webhook: 'url', email: 'to' } as const satisfies Record<ChannelName, string>;

/** The fields of other channels' targets that `fields` sets (non-null), to refuse them on `channel`. */
export function foreignTargetFields(channel: ChannelName, fields: Record<string, unknown>): { field: string; owner: ChannelName }[] {
  return CHANNEL_NAMES.filter((c) => c !== channel).flatMap((owner) =>
    TARGET_FIELDS[owner].filter((f) => fields[f] !== undefined && fields[f] !== null).map((field) => ({ field, owner })),
  );
}
