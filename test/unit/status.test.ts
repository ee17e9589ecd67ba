import { recordStatusOfRun } from '../../src/activities/event-status';
import { currentDeliveries, DELIVERY_STATUSES, eventStatusOf, isFinal, type DeliveryStatus } from '../../src/domain/status';
import type { Store } from '../../src/store';

const deliveries = (...statuses: DeliveryStatus[]) => statuses.map((status) => ({ status }));

describe('isFinal', () => {
  test('succeeded, failed and cancelled are final; pending and retrying are not', () => {
    const final = DELIVERY_STATUSES.filter(isFinal);
    expect(final).toEqual(['succeeded', 'failed', 'cancelled']);
  });
});

describe('eventStatusOf', () => {
  test('an event with no deliveries (nothing matched) is delivered', () => {
    expect(eventStatusOf([])).toBe('delivered');
  });

  test('an event whose deliveries all succeeded is delivered', () => {
    expect(eventStatusOf(deliveries('succeeded'))).toBe('delivered');
    expect(eventStatusOf(deliveries('succeeded', 'succeeded', 'succeeded'))).toBe('delivered');
  });

  test.each<DeliveryStatus>(['pending', 'retrying'])('any %s delivery keeps the event delivering', (open) => {
    expect(eventStatusOf(deliveries(open))).toBe('delivering');
    expect(eventStatusOf(deliveries('succeeded', open))).toBe('delivering');
  });

  test('an open delivery wins over failed and cancelled ones', () => {
    expect(eventStatusOf(deliveries('failed', 'cancelled', 'retrying'))).toBe('delivering');
    expect(eventStatusOf(deliveries('pending', 'failed'))).toBe('delivering');
  });

  test('once all are final, any failed delivery makes the event failed', () => {
    expect(eventStatusOf(deliveries('failed'))).toBe('failed');
    expect(eventStatusOf(deliveries('succeeded', 'failed', 'succeeded'))).toBe('failed');
  });

  test('failed wins over cancelled', () => {
    expect(eventStatusOf(deliveries('cancelled', 'failed'))).toBe('failed');
  });

  test('with none failed, any cancelled delivery makes the event cancelled', () => {
    expect(eventStatusOf(deliveries('cancelled'))).toBe('cancelled');
    expect(eventStatusOf(deliveries('succeeded', 'cancelled'))).toBe('cancelled');
  });

  test('ignores properties other than status', () => {
    expect(eventStatusOf([{ status: 'succeeded', attempts: 3 } as { status: DeliveryStatus }])).toBe('delivered');
  });
});

describe('currentDeliveries', () => {
  test('keeps the newest delivery per subscription, so a replay supersedes what came before', () => {
    const list = [
      { subscriptionId: 'a', status: 'failed' as const, n: 1 },
      { subscriptionId: 'b', status: 'succeeded' as const, n: 2 },
      { subscriptionId: 'a', status: 'succeeded' as const, n: 3 },
    ];
    expect(
      currentDeliveries(list)
        .map((d) => d.n)
        .sort(),
    ).toEqual([2, 3]);
    expect(eventStatusOf(currentDeliveries(list))).toBe('delivered');
  });

  test('an empty list stays empty', () => {
    expect(currentDeliveries([])).toEqual([]);
  });
});

describe('the status of a replayed event, when its runs end together', () => {
  /**
   * A store holding a replayed event whose deliveries are read in turns: the run that ends
   * first reads the other run's delivery still open, and its write of the status lands last.
   */
  function storeWithReads(...reads: { subscriptionId: string; status: string }[][]) {
    const written: string[] = [];
    const store = {
      events: {
        findOneAndUpdate: () => Promise.resolve({ replays: 1 }),
        updateOne: (_filter: unknown, update: { $set: { status: string } }) => {
          written.push(update.$set.status);
          return Promise.resolve();
        },
      },
      deliveries: { find: () => ({ sort: () => ({ toArray: () => Promise.resolve(reads.length > 1 ? reads.shift() : reads[0]) }) }) },
    };
    return { store: store as unknown as Store, written };
  }

  test('a run that wrote delivering from a stale read writes the final status once it reads it', async () => {
    const own = { subscriptionId: 's', status: 'succeeded' };
    const { store, written } = storeWithReads([own, { subscriptionId: 's', status: 'pending' }], [own, own]);
    await recordStatusOfRun(store, 't', 'e', 'delivered', true);
    expect(written.at(-1)).toBe('delivered');
  });
});
