import { decodeTime, isValid } from 'ulid';
import { newEventId, newMessageId, pooledRandom } from '../../src/domain/ids';

describe('ids', () => {
  it('are prefixed ULIDs of now, all different, across refills of the random pool', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, () => newMessageId()); // 16 bytes each: four refills of the 4 KiB pool
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^msg_/);
      const ulid = id.slice('msg_'.length);
      expect(isValid(ulid)).toBe(true);
      expect(decodeTime(ulid)).toBeGreaterThanOrEqual(before);
      expect(decodeTime(ulid)).toBeLessThanOrEqual(after);
    }
    expect(newEventId()).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('draw every one of the 32 ULID symbols with about the same frequency', () => {
    const counts = new Array<number>(32).fill(0);
    const draws = 32 * 2000;
    for (let i = 0; i < draws; i++) {
      const x = pooledRandom();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      counts[Math.floor(x * 32)]++;
    }
    // 2,000 expected per symbol; a fair source stays within ±15 % (over 6 standard deviations).
    for (const count of counts) expect(Math.abs(count - 2000)).toBeLessThan(300);
  });
});
