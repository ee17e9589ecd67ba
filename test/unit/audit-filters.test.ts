import { createAuditActivities } from '../../src/activities/audit';
import { createActivityCaches } from '../../src/activities/caches';
import type { TemporalGateway } from '../../src/activities/gateway';
import type { OpenEventInput } from '../../src/activities/types';
import * as filters from '../../src/domain/filter';
import type { HeraldEvent } from '../../src/domain/schemas';
import type { DeliveryDoc, EventDoc, Store, SubscriptionDoc } from '../../src/store';
import { eventDocOf } from '../../src/store/events';
import { subscriptionDoc } from './subscription-doc';

/**
 * The worker's opening of an event: filters in `openEvent` and `matchSubscriptions`, and the
 * purge check after its writes, on a store held in memory that answers the few commands they
 * send, and records each, so a test can tell what was written and read.
 */

const TENANT = 'acme';

function memoryStore(subscriptions: SubscriptionDoc[]) {
  const events = new Map<string, EventDoc>();
  const deliveries: DeliveryDoc[] = [];
  const commands: string[] = [];
  const marked = new Set<string>();
  /** Runs as the purge mark is read: a purge, or time, acting between the opening's writes and its check. */
  let onMarkRead = () => {};
  let version = 1;
  const store = {
    events: {
      insertOne: (doc: EventDoc) => {
        commands.push('events.insertOne');
        events.set(doc._id, structuredClone(doc));
        return Promise.resolve();
      },
      findOne: (filter: { _id: string }) => {
        commands.push('events.findOne');
        return Promise.resolve(events.get(filter._id) ?? null);
      },
      updateOne: () => {
        commands.push('events.updateOne');
        return Promise.resolve();
      },
    },
    eventMarks: {
      findOne: (filter: { _id: string }) => {
        commands.push('eventMarks.findOne');
        onMarkRead();
        return Promise.resolve(marked.has(filter._id) ? { _id: filter._id, purgeMarkedAt: new Date() } : null);
      },
    },
    deliveries: {
      insertMany: (docs: DeliveryDoc[]) => {
        deliveries.push(...docs);
        return Promise.resolve();
      },
      deleteMany: () => {
        commands.push('deliveries.deleteMany');
        return Promise.resolve();
      },
    },
    subscriptions: {
      find: () => ({ toArray: () => Promise.resolve(subscriptions) }),
      findOne: (filter: { _id: string }) => Promise.resolve(subscriptions.find((s) => s._id === filter._id) ?? null),
    },
    tenantVersions: { findOne: () => Promise.resolve({ _id: TENANT, subscriptions: version }) },
  } as unknown as Store;
  const whenMarkRead = (run: () => void) => (onMarkRead = run);
  return { store, events, deliveries, commands, marked, whenMarkRead, bumpVersion: () => version++ };
}

function subscription(
  id: string,
  eventTypes: string[],
  filter?: filters.EventFilter,
  extra: Partial<SubscriptionDoc> = {},
): SubscriptionDoc {
  return subscriptionDoc(TENANT, id, { eventTypes, ...(filter && { filterJson: JSON.stringify(filter) }), ...extra });
}

function paymentEvent(id: string, data: Record<string, unknown>): HeraldEvent {
  const at = new Date().toISOString();
  return { id, type: 'payment.captured', data, subject: { type: 'package', id: 'herald' }, occurredAt: at, receivedAt: at };
}

function activitiesOn(subscriptions: SubscriptionDoc[]) {
  const memory = memoryStore(subscriptions);
  const caches = createActivityCaches(memory.store);
  const feedDigest = jest.fn((_tenant: string, _subscriptionId: string) => Promise.resolve());
  const gateway = { feedDigest } as unknown as TemporalGateway;
  return { ...memory, caches, feedDigest, audit: createAuditActivities({ store: memory.store, caches, gateway }) };
}

const open = (audit: ReturnType<typeof activitiesOn>['audit'], event: HeraldEvent, extra: Partial<OpenEventInput> = {}) =>
  audit.openEvent({ tenant: TENANT, event, workflowId: `event/${TENANT}/${event.id}`, runId: 'run-1', ...extra });

const deliveredTo = (states: Awaited<ReturnType<typeof open>>) => (states === 'duplicate' ? [] : states.map((s) => s.view.subscriptionId));

afterEach(() => jest.restoreAllMocks());

test('a subscription whose types match but whose filter does not opens no delivery, and is recorded in the same insert', async () => {
  const { audit, events, commands } = activitiesOn([
    subscription('sub_prod', ['payment.*'], { 'data.env': 'prod' }),
    subscription('sub_all', ['payment.*']),
    subscription('sub_large', ['payment.*'], { 'data.amount': { $gte: 100 } }),
    subscription('sub_other', ['user.*'], { 'data.env': 'staging' }), // another type: not filtered, not matched
  ]);
  const states = await open(audit, paymentEvent('evt_1', { env: 'prod', amount: 50 }));

  expect(deliveredTo(states).sort()).toEqual(['sub_all', 'sub_prod']);
  expect(events.get(`${TENANT}/evt_1`)?.filteredOut).toEqual(['sub_large']);
  expect(commands.filter((c) => c.startsWith('events.'))).toEqual(['events.insertOne', 'events.findOne']); // the insert, and the purge check after it
});

test('an event that passes every filter is stored without filteredOut, and one that fails them all is delivered already', async () => {
  const subs = [subscription('sub_prod', ['payment.*'], { 'data.env': 'prod' }), subscription('sub_eu', ['*'], { 'data.region': 'eu' })];
  const { audit, events } = activitiesOn(subs);

  expect(deliveredTo(await open(audit, paymentEvent('evt_pass', { env: 'prod', region: 'eu' })))).toEqual(['sub_eu', 'sub_prod']);
  expect(events.get(`${TENANT}/evt_pass`)).not.toHaveProperty('filteredOut');

  expect(await open(audit, paymentEvent('evt_fail', { env: 'dev' }))).toEqual([]);
  expect(events.get(`${TENANT}/evt_fail`)).toMatchObject({ status: 'delivered', filteredOut: ['sub_eu', 'sub_prod'] });
});

test('a digest subscription is fed only the events its filter passes', async () => {
  const { audit, events, feedDigest } = activitiesOn([
    subscription('sub_digest', ['payment.*'], { 'data.env': 'prod' }, { digest: { every: '1h' } }),
  ]);
  await open(audit, paymentEvent('evt_dev', { env: 'dev' }));
  expect(feedDigest).not.toHaveBeenCalled();
  expect(events.get(`${TENANT}/evt_dev`)?.filteredOut).toEqual(['sub_digest']);

  await open(audit, paymentEvent('evt_prod', { env: 'prod' }));
  expect(feedDigest.mock.calls.map(([, subscriptionId]) => subscriptionId)).toEqual(['sub_digest']);
});

test('a run for one subscription (a ping, a replay to it) delivers whatever its filter says', async () => {
  const { audit, events } = activitiesOn([subscription('sub_prod', ['payment.*'], { 'data.env': 'prod' })]);
  expect(deliveredTo(await open(audit, paymentEvent('evt_ping', { env: 'dev' }), { only: 'sub_prod' }))).toEqual(['sub_prod']);
  expect(events.get(`${TENANT}/evt_ping`)).not.toHaveProperty('filteredOut');
});

test('a replay applies the filters to the stored event, read only when a filter needs it', async () => {
  const subs = [subscription('sub_prod', ['payment.*'], { 'data.env': 'prod' }), subscription('sub_all', ['payment.*'])];
  const { audit, caches, store } = activitiesOn(subs);
  const event = paymentEvent('evt_stored', { env: 'dev' });
  await store.events.insertOne(eventDocOf(TENANT, event, `event/${TENANT}/evt_stored`, 'run-0', 'delivered'));
  const loadEvent = jest.spyOn(caches, 'loadEvent');
  const replay = (eventType: string) =>
    audit.matchSubscriptions({ tenant: TENANT, eventId: 'evt_stored', eventType, workflowId: `event/${TENANT}/evt_stored/replay/1` });

  expect((await replay('payment.captured')).map((s) => s.view.subscriptionId)).toEqual(['sub_all']);
  expect(loadEvent).toHaveBeenCalledTimes(1);

  loadEvent.mockClear();
  await replay('invoice.sent'); // no subscription of this type: no filter to run
  expect(loadEvent).not.toHaveBeenCalled();
});

test("filters are compiled once per load of the tenant's subscriptions, not once per event", async () => {
  const compile = jest.spyOn(filters, 'compileFilter');
  const { audit, bumpVersion } = activitiesOn([
    subscription('sub_prod', ['payment.*'], { 'data.env': 'prod' }),
    subscription('sub_large', ['payment.*'], { 'data.amount': { $gte: 100 } }),
    subscription('sub_all', ['payment.*']),
  ]);
  for (let i = 0; i < 5; i++) await open(audit, paymentEvent(`evt_${i}`, { env: 'prod', amount: i * 50 }));
  expect(compile).toHaveBeenCalledTimes(2);

  bumpVersion(); // a subscription changed: the next event reloads them
  await open(audit, paymentEvent('evt_after', { env: 'prod' }));
  expect(compile).toHaveBeenCalledTimes(4);
});

describe("the purge check after an ingested event's opening", () => {
  // As deliverEvent opens an ingested event: first attempts to fast receivers stored by the attempts, under the event's claim.
  const ingested = { deferOpening: { timeoutMs: 5_000, deliveries: 100 } };
  const eventsRead = (commands: string[]) => commands.filter((c) => c === 'events.findOne');
  const marksRead = (commands: string[]) => commands.filter((c) => c === 'eventMarks.findOne');

  test('reads only the marks, once, when the event carries the claim this opening wrote and the mark is read within 8 s of it', async () => {
    const { audit, commands } = activitiesOn([subscription('fast', ['payment.*'], undefined, { timeoutMs: 5_000 })]);
    expect(deliveredTo(await open(audit, paymentEvent('evt_claimed', {}), ingested))).toEqual(['fast']);
    // The closure mark and the purge mark in one read, after the record and its claim.
    expect(marksRead(commands)).toHaveLength(1);
    expect(eventsRead(commands)).toEqual([]);
  });

  // Past 8 s another worker may have run the same opening (after the workflow task's 10 s
  // timeout), finished the event's run and released its claim; a purge then deletes at once.
  test.each([
    ['past the 8 s after the opening, the claim still holding', 9_000],
    ['once the claim lapsed', 60_000],
  ])('reads the event too when the mark is read %s, and fails the opening when a purge deleted it', async (_when, laterMs) => {
    const { audit, commands, events, whenMarkRead } = activitiesOn([subscription('fast', ['payment.*'], undefined, { timeoutMs: 5_000 })]);
    const now = Date.now();
    whenMarkRead(() => {
      // The worker stalled, and a purge meanwhile deleted the event and took its mark away.
      jest.spyOn(Date, 'now').mockReturnValue(now + laterMs);
      events.clear();
    });
    await expect(open(audit, paymentEvent(`evt_later_${laterMs}`, {}), ingested)).rejects.toThrow('is being purged');
    expect(marksRead(commands)).toHaveLength(1);
    expect(eventsRead(commands)).toEqual(['events.findOne']);
    expect(commands).toContain('deliveries.deleteMany');
  });

  test('fails the opening when the purge mark is there, claim or not', async () => {
    const { audit, marked } = activitiesOn([subscription('fast', ['payment.*'], undefined, { timeoutMs: 5_000 })]);
    marked.add(`${TENANT}/evt_marked`);
    await expect(open(audit, paymentEvent('evt_marked', {}), ingested)).rejects.toThrow('is being purged');
  });

  test('reads the event too when the opening wrote no claim on it (no fast receiver), and the marks again after storing the delivery', async () => {
    const { audit, commands } = activitiesOn([subscription('slow', ['payment.*'], undefined, { timeoutMs: 15_000 })]);
    expect(deliveredTo(await open(audit, paymentEvent('evt_slow', {}), ingested))).toEqual(['slow']);
    expect(eventsRead(commands)).toEqual(['events.findOne']);
    // The read with the record came before the delivery's claim: it cannot fence that delivery.
    expect(marksRead(commands)).toHaveLength(2);
  });

  test('reads the marks again after storing the slow delivery when a fast one is left to its first attempt', async () => {
    const { audit, commands } = activitiesOn([
      subscription('fast', ['payment.*'], undefined, { timeoutMs: 5_000 }),
      subscription('slow', ['payment.*'], undefined, { timeoutMs: 15_000 }),
    ]);
    expect(deliveredTo(await open(audit, paymentEvent('evt_mixed', {}), ingested))).toEqual(['fast', 'slow']);
    expect(marksRead(commands)).toHaveLength(2);
  });
});
