import { sharedRead } from '../../src/store/shared-read';

/** A read whose answers the test releases one at a time, counting the reads started. */
function controlledRead() {
  const started: Array<{ key: string; resolve: (v: number) => void; reject: (e: Error) => void }> = [];
  const read = (key: string) => new Promise<number>((resolve, reject) => started.push({ key, resolve, reject }));
  return { started, read };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('callers that ask while a read is in flight share the next read, never the one in flight', async () => {
  const { started, read } = controlledRead();
  const get = sharedRead(read);
  const first = get('t');
  expect(started).toHaveLength(1); // the first caller's read starts at once
  const second = get('t');
  const third = get('t');
  expect(second).toBe(third);
  expect(started).toHaveLength(1); // not before the read in flight settles: it may predate their call

  started[0].resolve(1);
  await expect(first).resolves.toBe(1);
  await tick();
  expect(started).toHaveLength(2);
  started[1].resolve(2);
  await expect(second).resolves.toBe(2);
  await expect(third).resolves.toBe(2);
});

test('keys are read apart, and a failed read fails its callers only', async () => {
  const { started, read } = controlledRead();
  const get = sharedRead(read);
  const a = get('a');
  const b = get('b');
  expect(started.map((s) => s.key)).toEqual(['a', 'b']);
  const aAgain = get('a');
  started[0].reject(new Error('store down'));
  await expect(a).rejects.toThrow('store down');
  await tick();
  expect(started.map((s) => s.key)).toEqual(['a', 'b', 'a']); // the failure is not handed to the next callers
  started[2].resolve(3);
  await expect(aAgain).resolves.toBe(3);
  started[1].resolve(4);
  await expect(b).resolves.toBe(4);
});

test('a caller after every read settled starts a read of its own', async () => {
  const { started, read } = controlledRead();
  const get = sharedRead(read);
  const first = get('k');
  started[0].resolve(1);
  await first;
  await tick();
  const later = get('k');
  expect(started).toHaveLength(2);
  started[1].resolve(5);
  await expect(later).resolves.toBe(5);
});

test('callers behind a read that does not settle get one read beside it after maxWaitMs, and no more', async () => {
  jest.useFakeTimers();
  try {
    const { started, read } = controlledRead();
    const get = sharedRead(read, 100);
    const stuck = get('k');
    const second = get('k');
    const third = get('k');
    jest.advanceTimersByTime(99);
    await Promise.resolve();
    expect(started).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toHaveLength(2); // one read for both, though the first has not answered

    // Two reads in flight: a later caller waits for the newer to settle, however long it takes.
    const fourth = get('k');
    jest.advanceTimersByTime(1_000);
    await Promise.resolve();
    expect(started).toHaveLength(2);
    started[1].resolve(2);
    await expect(second).resolves.toBe(2);
    await expect(third).resolves.toBe(2);
    await Promise.resolve();
    expect(started).toHaveLength(3);
    started[2].resolve(3);
    await expect(fourth).resolves.toBe(3);

    // The stuck read settles at last: its caller gets its answer, and the key is read afresh after.
    started[0].resolve(1);
    await expect(stuck).resolves.toBe(1);
    const later = get('k');
    expect(started).toHaveLength(4);
    started[3].resolve(4);
    await expect(later).resolves.toBe(4);
  } finally {
    jest.useRealTimers();
  }
});
