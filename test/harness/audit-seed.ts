import type { HeraldEvent } from '../../src/domain/schemas';
import type { EventStatus } from '../../src/domain/status';
import type { Store } from '../../src/store';
import { eventDocOf } from '../../src/store/events';

/**
 * A large audit written straight into the store, as the workflows' record activity writes it
 * (`eventDocOf`), for tests of the read side: sending 100,000 events through Temporal would
 * test the delivery path for minutes, not the audit's search and export.
 */

export interface SeededEvent extends HeraldEvent {
  status: EventStatus;
}

export const SEED_TYPES = ['package.built', 'package.promoted', 'deployment.started', 'deployment.failed', 'user.added'];
const STATUSES: EventStatus[] = ['delivered', 'delivered', 'failed', 'delivering'];

/**
 * `count` events spread over types, 50 subjects (two subject types), 10 actors, 20
 * correlation groups and statuses, one per second back from `end`, with every 7th sharing
 * its time with the previous one so that ties are ordered by id.
 */
export function auditEvents(count: number, end: Date, prefix = 'seed'): SeededEvent[] {
  const events: SeededEvent[] = [];
  let time = end.getTime();
  for (let i = 0; i < count; i++) {
    if (i % 7 !== 0) time -= 1000;
    const subject = i % 50;
    events.push({
      id: `${prefix}-${String(i).padStart(6, '0')}`,
      type: SEED_TYPES[i % SEED_TYPES.length],
      data: { i },
      subject: { type: subject % 2 ? 'package' : 'environment', id: `res-${subject}` },
      actor: `actor-${i % 10}`,
      correlationId: `corr-${i % 20}`,
      occurredAt: new Date(time).toISOString(),
      receivedAt: new Date(time).toISOString(),
      status: STATUSES[i % STATUSES.length],
    });
  }
  return events;
}

export async function seedAudit(store: Store, tenant: string, events: SeededEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const docs = events
      .slice(i, i + 1000)
      .map(({ status, ...event }) => eventDocOf(tenant, event, `event/${tenant}/${event.id}`, 'seeded', status));
    await store.events.insertMany(docs, { ordered: false });
  }
}
