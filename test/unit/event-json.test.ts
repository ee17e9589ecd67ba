import type { EventDoc } from '../../src/store';
import { eventJson, eventOf } from '../../src/store/events';

/** The export's line builder must write exactly what serialising the API's event view writes. */

const times = { occurredAt: new Date('2026-01-02T03:04:05.678Z'), receivedAt: new Date('2026-01-02T03:04:06Z') };
const bookkeeping = { _id: 't/e', tenant: 't', workflowId: 'event/t/e', runId: 'r', status: 'delivered' as const };

const docs: [string, EventDoc][] = [
  ['the fewest fields', { ...bookkeeping, id: 'e', type: 'a.b', dataJson: '{}', ...times }],
  [
    'every field, with data that needs escaping',
    {
      ...bookkeeping,
      id: 'e"2',
      type: 'build.finished',
      dataJson: JSON.stringify({ html: '<script>"\u2028', nested: { list: [1, null, 'x'] }, 'a.b': true }),
      subject: { type: 'package', id: 'p\n1' },
      actor: 'ana',
      source: 'ci',
      parentId: 'p',
      correlationId: 'c',
      ...times,
    },
  ],
];

test.each(docs)('%s', (_name, doc) => {
  const extra = { status: doc.status, deliveries: [{ subscriptionId: 's', attempts: 2 }] };
  expect(eventJson(doc, extra)).toBe(JSON.stringify({ ...eventOf(doc), ...extra }));
  expect(eventJson(doc, {})).toBe(JSON.stringify(eventOf(doc)));
});
