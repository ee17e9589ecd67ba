import { countsOf, emptyCounts, HOUR_MS, hourWindows, successRate } from '../../src/domain/stats';

describe('hourWindows', () => {
  test('24 whole UTC hours, oldest first, the last one holding now', () => {
    const now = new Date('2026-11-24T10:17:05Z');
    const windows = hourWindows(now);
    expect(windows).toHaveLength(24);
    expect(windows[23]).toEqual({ start: new Date('2026-11-24T10:00:00Z'), end: new Date('2026-11-24T11:00:00Z') });
    expect(windows[0].start).toEqual(new Date('2026-11-23T11:00:00Z'));
    for (let i = 1; i < windows.length; i++) expect(windows[i].start).toEqual(windows[i - 1].end);
    expect(windows.every((w) => w.end.getTime() - w.start.getTime() === HOUR_MS)).toBe(true);
  });

  test('a time on the hour starts the last window', () => {
    const windows = hourWindows(new Date('2026-11-24T10:00:00Z'), 2);
    expect(windows.map((w) => w.start.toISOString())).toEqual(['2026-11-24T09:00:00.000Z', '2026-11-24T10:00:00.000Z']);
  });
});

describe('countsOf', () => {
  test('fills statuses not seen with 0 and ignores unknown ones', () => {
    expect(
      countsOf([
        { _id: 'succeeded', n: 3 },
        { _id: 'failed', n: 1 },
        { _id: 'weird', n: 9 },
      ]),
    ).toEqual({
      ...emptyCounts(),
      succeeded: 3,
      failed: 1,
    });
  });
});

describe('successRate', () => {
  test('is null when nothing was attempted, rather than 0 %', () => {
    expect(successRate(emptyCounts())).toBeNull();
    expect(successRate({ ...emptyCounts(), pending: 4, cancelled: 2 })).toBeNull();
  });

  test('counts retrying deliveries as failing so far', () => {
    expect(successRate({ ...emptyCounts(), succeeded: 3, failed: 0, retrying: 1 })).toBe(0.75);
    expect(successRate({ ...emptyCounts(), succeeded: 1, failed: 1 })).toBe(0.5);
    expect(successRate({ ...emptyCounts(), succeeded: 5, pending: 10 })).toBe(1);
  });
});
