import type { AttemptDoc } from '../../src/store';
import { byTimeThenId, withFirstAttempts } from '../../src/store/deliveries';

const attempt = (deliveryId: string, n: number, startedAt: number): AttemptDoc => ({
  _id: `${deliveryId}#${n}`,
  tenant: 't',
  eventId: 'e',
  deliveryId,
  subscriptionId: deliveryId,
  attempt: n,
  startedAt: new Date(startedAt),
  durationMs: 1,
  request: { url: 'http://127.0.0.1/', headers: {} },
  response: { status: 200, body: '' },
  error: null,
});

test("an event's attempts are those recorded and the first ones its deliveries keep, each once", () => {
  const keptA = attempt('a', 1, 1_000);
  const keptB = attempt('b', 1, 1_000);
  const retryOfB = attempt('b', 2, 3_000);
  // The first attempt of `c` was sent again after its delivery kept it, and recorded in `attempts` as well.
  const c = attempt('c', 1, 2_000);
  const resent = { ...c, startedAt: new Date(5_000), durationMs: 7 };
  const merged = withFirstAttempts([retryOfB, resent], [{ firstAttempt: keptB }, { firstAttempt: keptA }, { firstAttempt: c }, {}]);
  expect(merged.map((a) => a._id).sort()).toEqual(['a#1', 'b#1', 'b#2', 'c#1']);
  expect(merged.find((a) => a._id === 'c#1')).toBe(c); // the record made first
});

test('attempts order by when they started, then by id', () => {
  const list = [attempt('b', 2, 3_000), attempt('b', 1, 1_000), attempt('a', 1, 1_000), attempt('c', 1, 2_000)];
  expect([...list].sort(byTimeThenId).map((a) => a._id)).toEqual(['a#1', 'b#1', 'c#1', 'b#2']);
  expect([...list].sort((x, y) => -byTimeThenId(x, y)).map((a) => a._id)).toEqual(['b#2', 'c#1', 'b#1', 'a#1']);
});
