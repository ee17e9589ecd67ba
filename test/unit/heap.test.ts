import { heapSettingGiven } from '../../src/heap';

test('a heap size or growth the operator gave on the command line or in NODE_OPTIONS is left alone', () => {
  expect(heapSettingGiven([], undefined)).toBe(false);
  expect(heapSettingGiven(['--enable-source-maps'], '--trace-warnings')).toBe(false);
  expect(heapSettingGiven(['--max-old-space-size=512'])).toBe(true);
  expect(heapSettingGiven([], ' --max_old_space_size=512 ')).toBe(true);
  expect(heapSettingGiven([], '--heap-growing-percent=20')).toBe(true);
  expect(heapSettingGiven(['--max-heap-size', '600'])).toBe(true);
});
