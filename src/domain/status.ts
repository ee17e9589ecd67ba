/** Delivery and event statuses of the public contract (docs/api.md), and how the first determine the second. */
export const DELIVERY_STATUSES = ['pending', 'retrying', 'succeeded', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const EVENT_STATUSES = ['delivering', 'delivered', 'failed', 'cancelled'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export function isFinal(status: DeliveryStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/**
 * `delivering` while any delivery is open; then `failed` if any failed, `cancelled` if any
 * was cancelled, otherwise `delivered` (which includes "nothing matched").
 */
export function eventStatusOf(deliveries: readonly { status: DeliveryStatus }[]): EventStatus {
  if (deliveries.some((d) => !isFinal(d.status))) return 'delivering';
  if (deliveries.some((d) => d.status === 'failed')) return 'failed';
  if (deliveries.some((d) => d.status === 'cancelled')) return 'cancelled';
  return 'delivered';
}

/**
 * The deliveries that decide an event's status: per subscription, the newest one (a replay
 * or a later run supersedes what came before it). Input in creation order.
 */
export function currentDeliveries<T extends { subscriptionId: string }>(inCreationOrder: readonly T[]): T[] {
  const latest = new Map<string, T>();
  for (const d of inCreationOrder) latest.set(d.subscriptionId, d);
  return [...latest.values()];
}
