import { decodeTime, isValid } from 'ulid';
import { newEventId, newMessageId, pooledRandom } from '../../src/domain/ids';

describe('ids', () => {
  it('are prefixed ULIDs of now whose random parts all differ, across refills of the random pool', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, () => newMessageId()); // 16 bytes each: the pool's first fill and three refills
    const after = Date.now();
    // The last 16 characters are the random part: a pool that handed out bytes twice repeats them.
    expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^msg_/);
      const ulid = id.slice('msg_'.length);
      expect(isValid(ulid)).toBe(true);
      expect(decodeTime(ulid)).toBeGreaterThanOrEqual(before);
      expect(decodeTime(ulid)).toBeLessThanOrEqual(after);
    }
    expect(newEventId()).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('draws whole bytes over 256, so each of the 32 ULID symbols gets exactly 8 byte values', () => {
    const counts = new Array<number>(32).fill(0);
    const draws = 32 * 2000;
    for (let i = 0; i < draws; i++) {
      const x = pooledRandom();
      expect(Number.isInteger(x * 256)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      counts[Math.floor(x * 32)]++;
    }
    // 2,000 expected per symbol from fair bytes; ±15 % is over 6 standard deviations.
    for (const count of counts) expect(Math.abs(count - 2000)).toBeLessThan(300);
  });
});
