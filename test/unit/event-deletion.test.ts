import type { Store } from '../../src/store';
import { deleteEventsWithAudit } from '../../src/store/events';

/**
 * The order of an event's deletion (purge and retention alike). A purge's mark fences the event
 * from every opening and attempt until the event is gone, so it must not go before the event.
 */
test("an event's audit and marks go before it, a purge's mark only after it", async () => {
  const commands: string[] = [];
  const collection = (name: string) => ({
    deleteMany: (filter: object) => {
      commands.push(`${name} ${JSON.stringify(filter)}`);
      return Promise.resolve({ deletedCount: 2 });
    },
  });
  const store = {
    deliveries: collection('deliveries'),
    attempts: collection('attempts'),
    eventMarks: collection('eventMarks'),
    events: collection('events'),
  } as unknown as Store;

  expect(await deleteEventsWithAudit(store, 'acme', ['a', 'b'])).toBe(2);
  expect(commands).toEqual([
    'deliveries {"tenant":"acme","eventId":{"$in":["a","b"]}}',
    'attempts {"tenant":"acme","eventId":{"$in":["a","b"]}}',
    'eventMarks {"_id":{"$in":["acme/a","acme/b"]},"purgeMarkedAt":{"$exists":false}}',
    'events {"_id":{"$in":["acme/a","acme/b"]}}',
    'eventMarks {"_id":{"$in":["acme/a","acme/b"]}}',
  ]);
});
