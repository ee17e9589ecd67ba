import { randomBytes } from 'node:crypto';
import { bumpTenantVersion, connectStore, tenantVersions, type Store } from '../../src/store';
import { sharedServers } from '../harness/stack';

/**
 * Herald relies on MongoDB's single-document atomicity: a version counter raised by concurrent
 * changes counts each of them (a worker's subscription cache trusts it), and fields set by two
 * writers at once (an event's status by its run, `closedBy` by its closing child) both stay.
 * The test store is real: FerretDB, which without tools/ferretdb's patch read each document and
 * wrote it back in two statements, so concurrent updates of one document lost all but one.
 */

let store: Store;

beforeAll(async () => {
  store = await connectStore(`${sharedServers().mongoBaseUrl}/herald_test_atomicity_${randomBytes(4).toString('hex')}`);
});

afterAll(async () => {
  await store?.db.dropDatabase();
  await store?.client.close();
});

test('concurrent raises of a tenant version each count', async () => {
  const writers = 10;
  const each = 20;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = 0; i < each; i++) await bumpTenantVersion(store, 'tenant-a', 'subscriptions');
    }),
  );
  expect(await tenantVersions(store, 'tenant-a')).toEqual({ subscriptions: writers * each, eventTypes: 0, apiKeys: 0 });
});

test('two fields set at once on one document by two writers both stay, by update and by findAndModify', async () => {
  const events = store.db.collection<{ _id: string; status?: string; closedBy?: string }>('events');
  const ids = Array.from({ length: 50 }, (_, i) => `t/evt-${i}`);
  await events.insertMany(ids.map((_id) => ({ _id, status: 'delivering' })));
  await Promise.all(
    ids.flatMap((_id) => [
      events.findOneAndUpdate({ _id }, { $set: { status: 'delivered' } }, { returnDocument: 'after' }),
      events.updateOne({ _id }, { $set: { closedBy: 'child' } }),
    ]),
  );
  const docs = await events.find({}).toArray();
  expect(docs).toHaveLength(ids.length);
  expect(docs.filter((d) => d.status !== 'delivered' || d.closedBy !== 'child')).toEqual([]);
});

test('updates of many documents and of one by its _id, at once, each count', async () => {
  const counters = store.db.collection<{ _id: string; group: string; n: number }>('counters');
  const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
  await counters.insertMany(ids.map((_id) => ({ _id, group: 'g', n: 0 })));
  await Promise.all([
    ...Array.from({ length: 5 }, async () => {
      for (let i = 0; i < 10; i++) await counters.updateMany({ group: 'g' }, { $inc: { n: 1 } });
    }),
    ...ids.flatMap((_id) =>
      Array.from({ length: 5 }, async () => {
        for (let i = 0; i < 4; i++) await counters.updateOne({ _id }, { $inc: { n: 1 } });
      }),
    ),
  ]);
  expect((await counters.find({}).toArray()).map((d) => d.n)).toEqual(ids.map(() => 5 * 10 + 5 * 4));
});
