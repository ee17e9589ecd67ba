import { resultOf, trackedView, TRACKED_ERROR_MAX } from '../../src/activities/delivery-state';
import type { AttemptedDelivery } from '../../src/store';

/** What a workflow keeps of a delivery: the stored one, with a long error cut short. */

const delivery = (error: string | null): AttemptedDelivery => ({
  _id: 'event/t1/e1|sub_1',
  tenant: 't1',
  eventId: 'e1',
  workflowId: 'event/t1/e1',
  subscriptionId: 'sub_1',
  channel: 'rabbitmq',
  messageId: 'msg_1',
  status: 'retrying',
  attempts: 1,
  lastAttemptAt: new Date('2026-12-06T12:00:00Z'),
  lastResponseStatus: null,
  nextAttemptAt: new Date('2026-12-06T12:01:00Z'),
  error,
  scheduleBase: 0,
  actions: [],
});

test("a broker's 4 KiB refusal is kept to its first 255 characters and an ellipsis; the rest of the view is the stored one", () => {
  const refusal = 'x'.repeat(4096);
  const view = trackedView(delivery(refusal));
  expect(view.error).toHaveLength(TRACKED_ERROR_MAX);
  expect(view.error).toBe(`${refusal.slice(0, TRACKED_ERROR_MAX - 1)}…`);
  expect(view).toMatchObject({ status: 'retrying', attempts: 1, nextAttemptAt: '2026-12-06T12:01:00.000Z', workflowId: 'event/t1/e1' });
  expect(resultOf(delivery(refusal), Date.parse('2026-12-06T12:00:30Z'))).toEqual({ view, retryDelayMs: 30_000 });
});

test('an error that fits, and none, are kept as they are', () => {
  const fits = 'y'.repeat(TRACKED_ERROR_MAX);
  expect(trackedView(delivery(fits)).error).toBe(fits);
  expect(trackedView(delivery('HTTP 503')).error).toBe('HTTP 503');
  expect(trackedView(delivery(null)).error).toBeNull();
});
