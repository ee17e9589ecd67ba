/**
 * Digests: a subscription's matching events collected over a window and sent as one message.
 * Pure, so the digest workflow and the delivery activities share it.
 */

/** The type of the event that carries one digest through the ordinary delivery machinery. */
export const DIGEST_EVENT_TYPE = 'herald.digest';

/**
 * Events one digest holds at most. The window's event ids live in the digest workflow's
 * state and travel in its continue-as-new input and in the digest event, so they are bounded.
 */
export const DIGEST_MAX_EVENTS = 1000;
export const DIGEST_MIN_WINDOW_MS = 1000;
export const DIGEST_MAX_WINDOW_MS = 7 * 86_400_000;
/**
 * How long after its window an event a digest holds is kept from retention: the digest's
 * delivery reads the events it lists at each of its attempts, and the default schedule runs for
 * about 28 h.
 */
export const DIGEST_DELIVERY_GRACE_MS = 2 * 86_400_000;

/** What the digest event records as its `data`: which events it carries and over which window. */
export interface DigestData {
  subscriptionId: string;
  count: number;
  eventIds: string[];
  window: { openedAt: string; closedAt: string };
}

/** Event fields the digest groups by and lists. */
export interface DigestItem {
  id: string;
  type: string;
  occurredAt: string;
  subject?: { type: string; id: string };
  actor?: string;
}

export interface DigestGroup<T extends DigestItem> {
  type: string;
  count: number;
  subjects: { subject: string | null; count: number; events: T[] }[];
}

export const subjectLabel = (subject: DigestItem['subject']): string | null => (subject ? `${subject.type}/${subject.id}` : null);

/**
 * Groups events by type, then by subject, each in the order of first appearance, so an
 * operator reads "what happened to what" instead of a timeline of a thousand lines.
 */
export function groupDigest<T extends DigestItem>(events: readonly T[]): DigestGroup<T>[] {
  const byType = new Map<string, Map<string | null, T[]>>();
  for (const event of events) {
    const subjects = byType.get(event.type) ?? new Map<string | null, T[]>();
    byType.set(event.type, subjects);
    const label = subjectLabel(event.subject);
    const list = subjects.get(label) ?? [];
    subjects.set(label, list);
    list.push(event);
  }
  return [...byType].map(([type, subjects]) => ({
    type,
    count: [...subjects.values()].reduce((n, list) => n + list.length, 0),
    subjects: [...subjects].map(([subject, list]) => ({ subject, count: list.length, events: list })),
  }));
}
