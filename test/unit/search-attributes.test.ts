import { indexableEventType, indexableSubscriptionIds } from '../../src/temporal/search-attributes';

test('subscription ids indexed in Temporal stay within the 2 KiB value limit, keeping the first ones', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => `sub_01M84GGZNPGA13M9W85WX8T${String(i).padStart(4, '0')}`);
  const kept = indexableSubscriptionIds(ids);
  expect(JSON.stringify(kept).length).toBeLessThanOrEqual(2048);
  expect(kept.length).toBeGreaterThan(50);
  expect(kept).toEqual(ids.slice(0, kept.length));
});

test('a small fan-out is indexed whole', () => {
  expect(indexableSubscriptionIds(['sub_a', 'sub_b'])).toEqual(['sub_a', 'sub_b']);
});

test('an event type is indexed up to the 255 characters SQL visibility keeps', () => {
  const longest = `${'a'.repeat(250)}.type`; // 255
  expect(indexableEventType(longest)).toBe(longest);
  expect(indexableEventType(`${longest}s`)).toBe(longest);
});
