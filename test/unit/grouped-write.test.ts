import type { IngestLogDoc, Store } from '../../src/store';
import { groupedWrite } from '../../src/store/grouped-write';
import { INGEST_LOG_LINGER_MS, ingestLogWriter } from '../../src/store/ingest-log';

/** A write whose commands the test acknowledges one at a time. */
function controlledWrite() {
  const commands: Array<{ items: string[]; answer: (outcomes: Array<string | Error>) => void; fail: (e: Error) => void }> = [];
  const write = (items: string[]) =>
    new Promise<Array<string | Error>>((resolve, reject) => commands.push({ items, answer: resolve, fail: reject }));
  return { commands, write };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('an idle writer writes at once; writes asked for while a command is in flight go together in the next', async () => {
  const { commands, write } = controlledWrite();
  const put = groupedWrite(write);
  const a = put('a');
  expect(commands.map((c) => c.items)).toEqual([['a']]);
  const b = put('b');
  const c = put('c');
  expect(commands).toHaveLength(1);

  commands[0].answer(['A']);
  await expect(a).resolves.toBe('A');
  await tick();
  expect(commands.map((cmd) => cmd.items)).toEqual([['a'], ['b', 'c']]);
  commands[1].answer(['B', 'C']);
  await expect(b).resolves.toBe('B');
  await expect(c).resolves.toBe('C');
});

test('an item refused fails its caller alone; a command refused whole fails all of its callers', async () => {
  const { commands, write } = controlledWrite();
  const put = groupedWrite(write);
  const first = put('first');
  const ok = put('ok');
  const refused = put('refused');
  commands[0].answer(['1']);
  await first;
  await tick();
  commands[1].answer(['OK', new Error('duplicate of something else')]);
  await expect(ok).resolves.toBe('OK');
  await expect(refused).rejects.toThrow('duplicate of something else');

  const x = put('x');
  const y = put('y');
  commands[2].fail(new Error('store down'));
  await expect(x).rejects.toThrow('store down');
  await tick();
  commands[3].answer(['Y']); // the next command goes on after a failed one
  await expect(y).resolves.toBe('Y');
});

test('a command holds at most maxItems items', async () => {
  const { commands, write } = controlledWrite();
  const put = groupedWrite(write, 2);
  const all = ['a', 'b', 'c', 'd'].map((item) => put(item));
  commands[0].answer(['A']);
  await tick();
  expect(commands[1].items).toEqual(['b', 'c']);
  commands[1].answer(['B', 'C']);
  await tick();
  expect(commands[2].items).toEqual(['d']);
  commands[2].answer(['D']);
  await expect(Promise.all(all)).resolves.toEqual(['A', 'B', 'C', 'D']);
});

test('with a linger, a write that finds nothing in flight waits for the writes that follow within it, then goes with them', async () => {
  jest.useFakeTimers();
  try {
    const { commands, write } = controlledWrite();
    const put = groupedWrite(write, 256, 5);
    const a = put('a');
    jest.advanceTimersByTime(4);
    const b = put('b');
    expect(commands).toHaveLength(0); // still lingering
    jest.advanceTimersByTime(1);
    expect(commands.map((c) => c.items)).toEqual([['a', 'b']]);
    const c = put('c'); // in flight: waits for it, not for another linger
    commands[0].answer(['A', 'B']);
    await expect(a).resolves.toBe('A');
    await expect(b).resolves.toBe('B');
    await Promise.resolve();
    expect(commands.map((cmd) => cmd.items)).toEqual([['a', 'b'], ['c']]);
    commands[1].answer(['C']);
    await expect(c).resolves.toBe('C');
  } finally {
    jest.useRealTimers();
  }
});

test("the ingestion log's entries of requests answered within 250 ms of each other go in one insert", async () => {
  jest.useFakeTimers();
  try {
    const inserts: string[][] = [];
    const store = {
      ingestLog: { insertMany: (docs: IngestLogDoc[]) => (inserts.push(docs.map((d) => d._id)), Promise.resolve()) },
    } as unknown as Store;
    const record = ingestLogWriter(store);
    const entry = (id: string) => ({ _id: id }) as IngestLogDoc;
    const written = [record(entry('ing_1'))];
    jest.advanceTimersByTime(120);
    written.push(record(entry('ing_2')));
    jest.advanceTimersByTime(120);
    written.push(record(entry('ing_3')));
    expect(inserts).toEqual([]);
    jest.advanceTimersByTime(INGEST_LOG_LINGER_MS - 240);
    expect(inserts).toEqual([['ing_1', 'ing_2', 'ing_3']]);
    await Promise.all(written);
  } finally {
    jest.useRealTimers();
  }
});
