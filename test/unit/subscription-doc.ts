import type { SubscriptionDoc } from '../../src/store';

/** A stored webhook subscription as the worker reads it, for stores held in memory. */
export function subscriptionDoc(tenant: string, id: string, extra: Partial<SubscriptionDoc> = {}): SubscriptionDoc {
  return {
    _id: id,
    tenant,
    eventTypes: ['*'],
    channel: 'webhook',
    url: 'https://hooks.example.com/',
    secrets: [],
    timeoutMs: 15_000,
    active: true,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...extra,
  } as SubscriptionDoc;
}
