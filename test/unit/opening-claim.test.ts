import { claimHolds, followsOpening, OPENING_CLAIM_MS } from '../../src/store/deliveries';

/** The opening claim's rules, at fixed clocks. */

const OPENED_AT = 1_700_000_000_000;
const UNTIL = OPENED_AT + OPENING_CLAIM_MS;

test('an attempt within seconds of its opening follows it; one run again after a workflow task timed out does not', () => {
  expect(followsOpening(UNTIL, OPENED_AT + 5)).toBe(true);
  expect(followsOpening(UNTIL, OPENED_AT + 7_000)).toBe(true);
  // The earliest a first attempt comes again on another worker: the workflow task's 10 s timeout.
  expect(followsOpening(UNTIL, OPENED_AT + 10_000)).toBe(false);
  expect(followsOpening(UNTIL, UNTIL + 1)).toBe(false);
});

test('the opening claim covers a local receiver (5 s) and not the default 15 s one', () => {
  expect(claimHolds(UNTIL, 5_000, OPENED_AT + 5)).toBe(true);
  expect(claimHolds(UNTIL, 15_000, OPENED_AT + 5)).toBe(false);
});
