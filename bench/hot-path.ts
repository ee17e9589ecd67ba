import { connectStore, ensureIndexes, tenantVersions, type DeliveryDoc, type EventDoc, type Store } from '../src/store';
import { claimDelivery, closeDelivery, createAttemptRecorder, createDeliveries, findDelivery } from '../src/store/deliveries';
import { eventDocOf, findEvent, isMarkedForPurge, isPurging, recordEvent, setStatusOfRun } from '../src/store/events';
import { findSubscription } from '../src/store/subscriptions';
import { startStore } from '../test/harness/servers';
import { deliveryDoc } from './delivery-doc';

/**
 * `node dist/bench/hot-path.js`: every store command an event and its attempts make, timed
 * with a small audit and again with a large one (HOT_PATH_EVENTS, default 20,000 events, each
 * with a delivery and an attempt). A command whose cost grows with the collection shows as a
 * ratio well above 1. Against MONGO_URL when given, else the test store: FerretDB on
 * PostgreSQL when one answers, `HERALD_TEST_STORE=sqlite` for SQLite.
 */

const LARGE = Number(process.env.HOT_PATH_EVENTS ?? 20_000);
const SMALL = 1_000;
const RUNS = 20;
const TENANT = 'hot';

async function seed(store: Store, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 1_000) {
    const end = Math.min(to, start + 1_000);
    const ids = Array.from({ length: end - start }, (_, k) => `seed-${start + k}`);
    const events: EventDoc[] = ids.map((id) =>
      eventDocOf(
        TENANT,
        { id, type: 'hot.seeded', data: {}, occurredAt: new Date().toISOString(), receivedAt: new Date().toISOString() },
        `event/${TENANT}/${id}`,
        'seed',
        'delivered',
      ),
    );
    await store.events.insertMany(events);
    await store.deliveries.insertMany(ids.map((id) => delivery(id, 'succeeded')));
  }
}

const delivery = (eventId: string, status: DeliveryDoc['status']) => deliveryDoc(TENANT, eventId, 'sub_hot', status);

/** Median milliseconds of each command over RUNS fresh events. */
async function measure(store: Store, label: string): Promise<Map<string, number>> {
  const times = new Map<string, number[]>();
  const time = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    const result = await run();
    times.set(name, [...(times.get(name) ?? []), Number(process.hrtime.bigint() - started) / 1e6]);
    return result;
  };
  const { recordAttempt } = createAttemptRecorder(store);
  for (let i = 0; i < RUNS; i++) {
    const id = `${label}-${i}`;
    const event = { id, type: 'hot.started', data: {}, occurredAt: new Date().toISOString(), receivedAt: new Date().toISOString() };
    await time('subscriptions version (by _id)', () => tenantVersions(store, TENANT));
    await time('record the event (insert, its marks by _id)', () =>
      recordEvent(store, eventDocOf(TENANT, event, `event/${TENANT}/${id}`, 'run', 'delivering')),
    );
    const [opened] = await time('open its delivery (insertMany)', () => createDeliveries(store, [delivery(id, 'pending')]));
    await time('is the event being purged (mark and event by _id, after opening)', () => isPurging(store, TENANT, id));
    // The attempt claims its delivery (a findOneAndUpdate) where it read it before 2026-12-04: both timed to compare.
    await time('read the delivery (by _id; the attempt did until the claim)', () => findDelivery(store, opened._id));
    await time('claim the delivery (findOneAndUpdate by _id)', () => claimDelivery(store, opened._id));
    await time("read the event's purge mark (by _id, after the claim)", () => isMarkedForPurge(store, TENANT, id));
    await time('read the subscription (by _id)', () => findSubscription(store, TENANT, 'sub_hot'));
    await time('read the event (by _id)', () => findEvent(store, TENANT, id));
    await time('record the attempt (insert, update by _id)', () =>
      recordAttempt(
        {
          _id: `${opened._id}#1`,
          tenant: TENANT,
          eventId: id,
          deliveryId: opened._id,
          subscriptionId: 'sub_hot',
          attempt: 1,
          startedAt: new Date(),
          durationMs: 1,
          request: { url: 'http://127.0.0.1:9/', headers: {} },
          response: { status: 500, body: '' },
          error: 'HTTP 500',
        },
        { status: 'retrying', lastAttemptAt: new Date(), lastResponseStatus: 500, nextAttemptAt: new Date(), error: 'HTTP 500' },
      ),
    );
    await time('close the delivery (read, update by _id)', () => closeDelivery(store, opened._id, 'cancelled', 'cancelled by hot-path'));
    await time('finish the event (findOneAndUpdate by _id)', () => setStatusOfRun(store, TENANT, id, 'cancelled', true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return new Map([...times].map(([name, xs]) => [name, median(xs)]));
}

async function main() {
  const server = await startStore();
  const store = await connectStore(`${server.baseUrl}/herald_hot_path`);
  try {
    await store.db.dropDatabase();
    await ensureIndexes(store);
    await store.subscriptions.insertOne({
      _id: 'sub_hot',
      tenant: TENANT,
      eventTypes: ['hot.*'],
      channel: 'webhook',
      url: 'http://127.0.0.1:9/',
      secrets: [],
      timeoutMs: 5_000,
      active: true,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await seed(store, 0, SMALL);
    await new Promise((r) => setTimeout(r, 2_000)); // the FerretDB wrapper adds its indexes each second
    const small = await measure(store, 'small');
    await seed(store, SMALL, LARGE);
    const large = await measure(store, 'large');
    const build = await store.db.command({ buildInfo: 1 });
    console.log(
      `store: ${build.ferretdbVersion ? 'FerretDB' : `MongoDB ${build.version}`} (${process.env.MONGO_URL ? 'MONGO_URL' : (process.env.HERALD_TEST_STORE ?? 'test store')}), median of ${RUNS}\n`,
    );
    console.log(`| command | ${SMALL} events | ${LARGE} events | ratio |\n|---|---:|---:|---:|`);
    for (const [name, ms] of small) {
      const big = large.get(name)!;
      console.log(`| ${name} | ${ms.toFixed(1)} ms | ${big.toFixed(1)} ms | ${(big / ms).toFixed(2)} |`);
    }
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await store.client.close();
    server.process?.kill('SIGTERM');
    server.cleanup?.();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
