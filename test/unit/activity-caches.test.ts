import { createActivityCaches } from '../../src/activities/caches';
import type { Store, SubscriptionDoc } from '../../src/store';
import { subscriptionDoc } from './subscription-doc';

/**
 * The worker's subscription cache on a store held in memory that counts the reads it answers:
 * what a delivery's first attempt reads, given the version its event was matched at.
 */

const TENANT = 'acme';

const subscription = (id: string, extra: Partial<SubscriptionDoc> = {}) => subscriptionDoc(TENANT, id, extra);

/** `loadDelaysMs`: how long each read of the tenant's subscriptions takes, in turn (none when absent). */
function memoryStore(initial: SubscriptionDoc[], loadDelaysMs: number[] = []) {
  let subscriptions = initial;
  let version = 1;
  const reads: string[] = [];
  const store = {
    subscriptions: {
      find: () => {
        reads.push('subscriptions');
        const answer = subscriptions.filter((s) => s.active); // as the store had them when asked
        const delay = loadDelaysMs.shift() ?? 0;
        return { toArray: () => new Promise((resolve) => setTimeout(() => resolve(answer), delay)) };
      },
      findOne: (filter: { _id: string }) => {
        reads.push(`subscription ${filter._id}`);
        return Promise.resolve(subscriptions.find((s) => s._id === filter._id) ?? null);
      },
    },
    tenantVersions: {
      findOne: () => {
        reads.push('version');
        return Promise.resolve({ _id: TENANT, subscriptions: version });
      },
    },
  } as unknown as Store;
  /** A change as the API makes it: the subscriptions, then the version. */
  const change = (next: SubscriptionDoc[]) => {
    subscriptions = next;
    version++;
  };
  return { store, reads, change };
}

test('at the version the event was matched at, a first attempt takes its subscription from the cache without a read', async () => {
  const { store, reads } = memoryStore([subscription('a'), subscription('b')]);
  const caches = createActivityCaches(store);
  const { version, subs } = await caches.matchable(TENANT);
  expect(subs.map((s) => s.doc._id)).toEqual(['a', 'b']);
  expect(reads).toEqual(['version', 'subscriptions']);

  reads.length = 0;
  expect((await caches.subscriptionAt(TENANT, 'b', version))?._id).toBe('b');
  expect(reads).toEqual([]);
  // Without the version, an attempt reads the current one.
  expect((await caches.subscription(TENANT, 'b'))?._id).toBe('b');
  expect(reads).toEqual(['version']);
});

test('once the cache holds a newer version, a first attempt matched at the older one reads the subscription as it is now', async () => {
  const { store, reads, change } = memoryStore([subscription('a'), subscription('b')]);
  const caches = createActivityCaches(store);
  const { version: matchedAt } = await caches.matchable(TENANT);

  change([subscription('a'), subscription('b', { active: false })]);
  expect((await caches.matchable(TENANT)).subs.map((s) => s.doc._id)).toEqual(['a']);

  reads.length = 0;
  expect(await caches.subscriptionAt(TENANT, 'b', matchedAt)).toMatchObject({ _id: 'b', active: false });
  expect(reads).toEqual(['version', 'subscription b']);
});

test('events and attempts that find the same new version at once share one read of the subscriptions', async () => {
  const { store, reads } = memoryStore([subscription('a'), subscription('b')], [20]);
  const caches = createActivityCaches(store);
  const answers = await Promise.all(Array.from({ length: 8 }, () => caches.matchable(TENANT)));
  expect(new Set(answers).size).toBe(1);
  expect(reads.filter((r) => r === 'subscriptions')).toHaveLength(1);
});

test('a read of an older version that ends after a newer one does not replace it', async () => {
  const { store, reads, change } = memoryStore([subscription('a'), subscription('b')], [200, 0]);
  const caches = createActivityCaches(store);
  let newerDone = false;
  const older = caches.matchable(TENANT).then((entry) => ({ entry, newerDone }));
  await new Promise((resolve) => setTimeout(resolve, 5)); // the older read is under way
  change([subscription('a')]);
  const newer = await caches.matchable(TENANT);
  newerDone = true;
  expect(newer.subs.map((s) => s.doc._id)).toEqual(['a']);
  const { entry, newerDone: endedAfterNewer } = await older;
  expect(entry.subs.map((s) => s.doc._id)).toEqual(['a', 'b']);
  expect(endedAfterNewer).toBe(true);

  reads.length = 0;
  expect(await caches.matchable(TENANT)).toBe(newer);
  expect(reads).toEqual(['version']);
});

test("a tenant's subscriptions are read again after a minute even when the version did not move: a change whose version raise failed reaches the workers", async () => {
  const { store, reads } = memoryStore([subscription('a'), subscription('b')]);
  const caches = createActivityCaches(store, 1_000);
  expect((await caches.matchable(TENANT)).subs).toHaveLength(2);
  // b is deleted and the write raising the version fails: the version stays.
  (store.subscriptions as unknown as { find: () => unknown }).find = () => {
    reads.push('subscriptions');
    return { toArray: () => Promise.resolve([subscription('a')]) };
  };
  expect((await caches.matchable(TENANT)).subs).toHaveLength(2);
  await new Promise((r) => setTimeout(r, 1_100));
  expect((await caches.matchable(TENANT)).subs.map((s) => s.doc._id)).toEqual(['a']);
});

test('an event whose API read the version matches on a cache at least that new without a read, and reads when the cache is older', async () => {
  const { store, reads, change } = memoryStore([subscription('a'), subscription('b')]);
  const caches = createActivityCaches(store);
  const { version } = await caches.matchable(TENANT);

  reads.length = 0;
  expect((await caches.matchable(TENANT, version)).subs.map((s) => s.doc._id)).toEqual(['a', 'b']);
  expect((await caches.matchable(TENANT, version - 1)).version).toBe(version);
  expect(reads).toEqual([]);

  // A change the API saw before the event's request: the cache is older than the event, so it is read again.
  change([subscription('a')]);
  const matched = await caches.matchable(TENANT, version + 1);
  expect(matched).toMatchObject({ version: version + 1 });
  expect(matched.subs.map((s) => s.doc._id)).toEqual(['a']);
  expect(reads).toEqual(['version', 'subscriptions']);
});

test('a load under way when this worker forgets the subscriptions (its own disable) is not held after it', async () => {
  const { store, reads, change } = memoryStore([subscription('a'), subscription('b')], [50]);
  const caches = createActivityCaches(store);
  const loading = caches.matchable(TENANT); // reads the version, then the subscriptions for 50 ms
  await new Promise((resolve) => setTimeout(resolve, 10));
  change([subscription('a')]); // the disable's write and raise, made by this worker
  caches.forgetSubscriptions(TENANT);
  const { version: before } = await loading;

  reads.length = 0;
  expect((await caches.matchable(TENANT, before)).subs.map((s) => s.doc._id)).toEqual(['a']);
  expect(reads).toEqual(['version', 'subscriptions']);
});
