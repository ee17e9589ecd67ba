import type { NextFunction, Request, Response } from 'express';
import { MongoNetworkError } from 'mongodb';
import { authenticate, type Principal } from '../../src/api/auth';
import { ProblemError } from '../../src/api/problem';
import { createEventDataValidator } from '../../src/api/event-type-schemas';
import { requestVersions, tenantVersionsReader } from '../../src/api/tenant-versions';
import { hashApiKey, newApiKey } from '../../src/security/api-keys';
import { bumpTenantVersion, TENANT_VERSIONS_MAX_AGE_MS, type ApiKeyDoc, type Store } from '../../src/store';

/**
 * Requests that arrive together share the API's per-request reads, but never a read already in
 * flight when they arrived: a key revoked (or a schema registered) before a request was sent
 * applies to it. The store is a stand-in whose reads the test answers one at a time.
 */

function pendingReads<T>() {
  const reads: Array<(value: T) => void> = [];
  const read = () => new Promise<T>((resolve) => reads.push(resolve));
  return { reads, read };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

// The shared reads' timer (a read stuck past 100 ms gets one beside it) stays still: a slow
// moment of the machine must not start a read these tests count.
beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

/** Runs the middleware as Express would, answering the principal it set or the error it passed on. */
function request(
  middleware: ReturnType<typeof authenticate>,
  key: string,
  res = { locals: {} } as unknown as Response,
): Promise<Principal | ProblemError> {
  return new Promise((resolve) => {
    const req = { get: (name: string) => (name.toLowerCase() === 'authorization' ? `Bearer ${key}` : undefined) } as unknown as Request;
    const next: NextFunction = (err?: unknown) => resolve(err ? (err as ProblemError) : (res.locals.principal as Principal));
    Promise.resolve(middleware(req, res, next)).catch(resolve); // a throw is an answer too, not a hang
  });
}

/** The stored key of a new key of tenant `t`, not revoked. */
function activeKey(created: ReturnType<typeof newApiKey>): ApiKeyDoc {
  return {
    _id: created.id,
    name: 'ci',
    tenant: 't',
    scopes: ['events:write'],
    prefix: created.prefix,
    hash: hashApiKey(created.key),
    createdAt: new Date(0),
  };
}

test('requests with one key share a read that started after they arrived, so a revocation before them answers 401', async () => {
  const created = newApiKey();
  const active = activeKey(created);
  const { reads, read } = pendingReads<ApiKeyDoc>();
  const store = { apiKeys: { findOne: read } } as unknown as Store;
  const middleware = authenticate('admin-key-of-this-test', store, tenantVersionsReader(store));

  const first = request(middleware, created.key);
  await tick();
  expect(reads).toHaveLength(1);
  // The key is revoked while the first request's read is in flight; two requests come after that.
  const second = request(middleware, created.key);
  const third = request(middleware, created.key);
  await tick();
  expect(reads).toHaveLength(1); // they wait for a read of their own

  reads[0](active); // read before the revocation
  expect(await first).toMatchObject({ keyId: created.id, tenant: 't' });
  await tick();
  expect(reads).toHaveLength(2); // one read for both
  reads[1]({ ...active, revokedAt: new Date(1) });
  for (const answer of [await second, await third]) {
    expect(answer).toBeInstanceOf(ProblemError);
    expect(answer).toMatchObject({ status: 401, detail: 'The API key was revoked.' });
  }
});

test("a key kept in memory costs a read of its tenant's counters, which ingestion reuses; a revocation before a request answers 401", async () => {
  const created = newApiKey();
  let doc = activeKey(created);
  let apiKeys = 4;
  const reads: string[] = [];
  const store = {
    apiKeys: { findOne: () => (reads.push('key'), Promise.resolve(doc)) },
    tenantVersions: { findOne: () => (reads.push('versions'), Promise.resolve({ _id: 't', subscriptions: 7, apiKeys })) },
  } as unknown as Store;
  const middleware = authenticate('admin-key-of-this-test', store, tenantVersionsReader(store));

  expect(await request(middleware, created.key)).toMatchObject({ keyId: created.id });
  expect(reads).toEqual(['key']); // first seen: read by itself
  expect(await request(middleware, created.key)).toMatchObject({ keyId: created.id });
  expect(reads).toEqual(['key', 'versions', 'key']); // read again after the counter, to be kept with it
  reads.length = 0;
  jest.advanceTimersByTime(TENANT_VERSIONS_MAX_AGE_MS); // the counters read is too old to answer the next request
  const res = { locals: {} } as unknown as Response;
  expect(await request(middleware, created.key, res)).toMatchObject({ keyId: created.id });
  expect(reads).toEqual(['versions']);
  expect(await requestVersions(res, 't', () => Promise.reject(new Error('read again')))).toEqual({
    subscriptions: 7,
    eventTypes: 0,
    apiKeys: 4,
  });

  // Revoked in another API process: the key's write, then the counter's raise, which returns
  // (and the revocation is answered) TENANT_VERSIONS_MAX_AGE_MS after its write.
  doc = { ...doc, revokedAt: new Date(1) };
  apiKeys++;
  jest.advanceTimersByTime(TENANT_VERSIONS_MAX_AGE_MS);
  reads.length = 0;
  expect(await request(middleware, created.key)).toMatchObject({ status: 401, detail: 'The API key was revoked.' });
  expect(reads).toEqual(['versions', 'key']);
});

test("a tenant's requests share the registry version's read, and a schema registered before them applies", async () => {
  let version = 0; // no registry yet
  const answers: Array<() => void> = [];
  let reads = 0;
  const schemaJson = JSON.stringify({ type: 'object', required: ['amount'] });
  const store = {
    tenantVersions: {
      findOne: () => {
        reads++;
        const answer = version ? { _id: 't', eventTypes: version } : null; // the state when the read ran
        return new Promise((resolve) => answers.push(() => resolve(answer)));
      },
    },
    eventTypes: { find: () => ({ toArray: () => Promise.resolve(version ? [{ type: 'order.paid', schemaJson }] : []) }) },
  } as unknown as Store;
  const answerAll = async () => {
    while (answers.length) {
      answers.shift()!();
      await tick();
    }
  };
  const validator = createEventDataValidator(store);
  const versionsOf = tenantVersionsReader(store);
  // As ingestion: the tenant's versions read after the request arrived, then its events checked.
  const check = async () => validator.check('t', [event], (await versionsOf('t'))?.eventTypes);
  const event = { type: 'order.paid', data: {} };
  const warm = check();
  await tick();
  await answerAll();
  expect(await warm).toEqual([[]]);

  expect(reads).toBe(2); // the versions, then the registry, which reads the version first
  jest.advanceTimersByTime(TENANT_VERSIONS_MAX_AGE_MS); // too old to answer the next request
  const first = check();
  await tick();
  expect(reads).toBe(3);
  version = 1; // the schema is registered while the first request's read is in flight
  jest.advanceTimersByTime(TENANT_VERSIONS_MAX_AGE_MS); // and answered once its raise returned
  const second = check();
  const third = check();
  await tick();
  expect(reads).toBe(3); // they wait for a read of their own

  answers.shift()!();
  expect(await first).toEqual([[]]); // read before the registration
  await tick();
  expect(reads).toBe(4); // one read for both
  await answerAll(); // and, the version having moved, the registry's own reads
  for (const [issues] of [await second, await third]) expect(issues.map((i) => i.path.join('.'))).toEqual(['data.amount']);
});

test("a tenant's requests within TENANT_VERSIONS_MAX_AGE_MS of when a counters read was asked for share it, in flight or answered", async () => {
  let apiKeys = 1;
  const { reads, read } = pendingReads<{ _id: string; apiKeys: number }>();
  const store = { tenantVersions: { findOne: read } } as unknown as Store;
  const versionsOf = tenantVersionsReader(store);

  const first = versionsOf('t');
  await tick();
  jest.advanceTimersByTime(TENANT_VERSIONS_MAX_AGE_MS - 10);
  const joining = versionsOf('t'); // while the read is in flight
  await tick();
  expect(reads).toHaveLength(1);
  reads[0]({ _id: 't', apiKeys });
  expect(await first).toMatchObject({ apiKeys: 1 });
  expect(await joining).toMatchObject({ apiKeys: 1 });
  jest.advanceTimersByTime(9);
  expect(await versionsOf('t')).toMatchObject({ apiKeys: 1 });
  expect(reads).toHaveLength(1);

  apiKeys++; // raised, as a raise returning now would have been
  jest.advanceTimersByTime(1); // the read's age counts from when it was asked for, not answered
  const after = versionsOf('t');
  await tick();
  expect(reads).toHaveLength(2);
  reads[1]({ _id: 't', apiKeys });
  expect(await after).toMatchObject({ apiKeys: 2 });
});

test('a counters read that failed answers only the requests that asked with it: the next one reads again', async () => {
  let down = true;
  let reads = 0;
  const store = {
    tenantVersions: {
      findOne: () => (reads++, down ? Promise.reject(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:1')) : Promise.resolve(null)),
    },
  } as unknown as Store;
  const versionsOf = tenantVersionsReader(store);
  expect(await versionsOf('t')).toBeUndefined(); // unreachable: intake goes on without
  down = false;
  expect(await versionsOf('t')).toEqual({ subscriptions: 0, eventTypes: 0, apiKeys: 0 });
  expect(reads).toBe(2);
});

test('a raise of a counter returns TENANT_VERSIONS_MAX_AGE_MS after its write, when no API process answers from an older read', async () => {
  jest.useRealTimers();
  let writtenAt: number | undefined;
  const store = {
    tenantVersions: { updateOne: () => ((writtenAt = performance.now()), Promise.resolve({ modifiedCount: 1 })) },
  } as unknown as Store;
  await bumpTenantVersion(store, 't', 'apiKeys');
  expect(writtenAt).toBeDefined();
  expect(performance.now() - writtenAt!).toBeGreaterThanOrEqual(TENANT_VERSIONS_MAX_AGE_MS);
});
