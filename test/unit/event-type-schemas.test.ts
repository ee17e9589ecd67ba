import { MongoNetworkError } from 'mongodb';
import { createEventDataValidator } from '../../src/api/event-type-schemas';
import { ProblemError } from '../../src/api/problem';
import type { Store } from '../../src/store';

/**
 * The registry's reads through a store outage. The store here is a stand-in whose reads can
 * be made to fail as an unreachable server fails them; the real outage is `make chaos`'s.
 */
function registry(schemaJson: string) {
  let down = false;
  const unreachable = () => Promise.reject(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:1'));
  const store = {
    eventTypesVersions: { findOne: () => (down ? unreachable() : Promise.resolve({ _id: 't', version: 1 })) },
    eventTypes: { find: () => ({ toArray: () => (down ? unreachable() : Promise.resolve([{ type: 'order.paid', schemaJson }])) }) },
  } as unknown as Store;
  return { store, stop: () => (down = true) };
}

const schema = JSON.stringify({ type: 'object', required: ['amount'] });

test('through a store outage the schemas last read go on validating', async () => {
  const { store, stop } = registry(schema);
  const validator = createEventDataValidator(store);
  expect(await validator.check('t', [{ type: 'order.paid', data: { amount: 1 } }])).toEqual([[]]);
  stop();
  const [issues] = await validator.check('t', [{ type: 'order.paid', data: {} }]);
  expect(issues.map((i) => i.path.join('.'))).toEqual(['data.amount']);
});

test('with no schemas read yet, an outage answers 503 with Retry-After, not an error of the server', async () => {
  const { store, stop } = registry(schema);
  stop();
  const refused = createEventDataValidator(store).check('t', [{ type: 'order.paid', data: { amount: 1 } }]);
  await expect(refused).rejects.toBeInstanceOf(ProblemError);
  await expect(refused).rejects.toMatchObject({ status: 503 });
});
