import { currentDeliveries, DELIVERY_STATUSES, eventStatusOf, isFinal, type DeliveryStatus } from '../../src/domain/status';

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
