import { randomBytes } from 'node:crypto';
import { connectStore, type DeliveryDoc, type IngestLogDoc, type Store } from '../../src/store';
import { createAttemptRecorder, UNATTEMPTED } from '../../src/store/deliveries';
import { ingestLogWriter } from '../../src/store/ingest-log';
import { sharedServers } from '../harness/stack';
import { storeProxy, type StoreProxy } from '../harness/store-proxy';

/**
 * Grouped inserts when the store's connection is lost during the command: every write in it
 * fails, so that its caller retries, and none is answered as stored. Before, the driver's bulk
 * error for a lost connection (no write errors, nothing inserted) read as "nothing refused",
 * and `make chaos` lost deliveries its store restart caught in flight. The store is real; a
 * proxy in front of it closes the connection on the first insert into the collection named.
 */

let proxy: StoreProxy;
let store: Store;

beforeAll(async () => {
  proxy = await storeProxy(new URL(sharedServers().mongoBaseUrl));
  // No retryable writes: on a replica set the driver would resend the insert once, through the proxy.
  store = await connectStore(`mongodb://127.0.0.1:${proxy.port}/herald_test_faults_${randomBytes(4).toString('hex')}?retryWrites=false`);
  // The event the deliveries belong to: `openDeferred` reads it to tell a purge from a fresh opening.
  await store.db.collection('events').insertOne({ _id: 'default/evt-1' as never, tenant: 'default', id: 'evt-1' });
});

afterAll(async () => {
  // Each guarded: a failed beforeAll must show its own error, not one from here.
  await store?.db.dropDatabase();
  await store?.client.close();
  await proxy?.close();
});

function delivery(id: string): DeliveryDoc {
  const at = new Date();
  return {
    _id: id,
    tenant: 'default',
    eventId: 'evt-1',
    workflowId: 'event/default/evt-1',
    subscriptionId: `sub-${id}`,
    channel: 'webhook',
    messageId: `msg-${id}`,
    status: 'pending',
    ...UNATTEMPTED,
    actions: [],
    createdAt: at,
    updatedAt: at,
  };
}

test('a delivery whose insert loses the connection is not answered as stored, and is stored when asked again', async () => {
  const { openDeferred } = createAttemptRecorder(store);
  proxy.dropNextInsert('deliveries');
  await expect(openDeferred(delivery('d1'))).rejects.toThrow();
  expect(await store.deliveries.countDocuments({})).toBe(0);

  await expect(openDeferred(delivery('d1'))).resolves.toBe(true);
  expect(await store.deliveries.findOne({ _id: 'd1' })).toMatchObject({ status: 'pending' });
});

const logEntry = (id: string): IngestLogDoc => ({
  _id: id,
  tenant: 'default',
  keyId: 'key-1',
  at: new Date(),
  method: 'POST',
  route: '/v1/events',
  status: 202,
  problem: '',
  body: '{}',
  bodyBytes: 2,
  truncated: false,
});

test('an ingestion log entry whose insert loses the connection is written by the next try', async () => {
  const write = ingestLogWriter(store, [10]);
  const before = proxy.dropped();
  proxy.dropNextInsert('ingest_log');
  await expect(write(logEntry('log-1'))).resolves.toBeUndefined();
  expect(proxy.dropped()).toBe(before + 1);
  expect(await store.ingestLog.countDocuments({ _id: 'log-1' })).toBe(1);

  // Stored, and the answer lost: the next try's duplicate is the entry written.
  proxy.dropNextInsert('ingest_log', true);
  await expect(write(logEntry('log-2'))).resolves.toBeUndefined();
  expect(proxy.dropped()).toBe(before + 2);
  expect(await store.ingestLog.countDocuments({ _id: 'log-2' })).toBe(1);
});

test('an ingestion log entry fails when every try loses the connection, instead of being taken as written', async () => {
  const write = ingestLogWriter(store, []);
  const before = proxy.dropped();
  proxy.dropNextInsert('ingest_log');
  await expect(write(logEntry('log-3'))).rejects.toThrow();
  expect(proxy.dropped()).toBe(before + 1);
  expect(await store.ingestLog.countDocuments({ _id: 'log-3' })).toBe(0);
});
