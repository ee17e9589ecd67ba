import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connectStore, ensureIndexes, type Store } from '../../src/store';
import { freePort, tool, waitForPort } from '../harness/servers';

/**
 * The test and bench store on PostgreSQL (tools/ferretdb): FerretDB filters with `@>`, served by
 * the wrapper's GIN companions, and uses none of its own non-unique btrees for a read, so the
 * wrapper drops those once their companions exist. The unique ones must stay: they refuse
 * duplicates. Run against this machine's PostgreSQL, with Herald's own indexes.
 */

const server = process.env.HERALD_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const database = `herald_test_indexes_${process.pid}_${Date.now()}`;
const psql = (db: string, sql: string) => spawnSync('psql', [`${server}/${db}`, '-Atqc', sql], { encoding: 'utf8', timeout: 15_000 });

let wrapper: ChildProcess;
let store: Store;

beforeAll(async () => {
  expect(psql('postgres', `CREATE DATABASE ${database}`).status).toBe(0);
  // A table of something else in the same database: its index is not FerretDB's to drop.
  expect(psql(database, 'CREATE TABLE other (v int); CREATE INDEX other_v ON other (v)').status).toBe(0);
  const port = await freePort();
  wrapper = spawn(tool('herald-ferretdb'), ['-listen', `127.0.0.1:${port}`, '-postgresql', `${server}/${database}`], { stdio: 'ignore' });
  await waitForPort(port);
  store = await connectStore(`mongodb://127.0.0.1:${port}/herald`);
  await ensureIndexes(store);
});

afterAll(async () => {
  await store?.client.close();
  wrapper?.kill();
  psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

/** Index definitions on the table FerretDB made for a collection. */
function indexesOf(collection: string): string[] {
  const out = psql(database, `SELECT indexdef FROM pg_indexes WHERE schemaname = 'herald' AND tablename LIKE '${collection}\\_%'`);
  expect(out.status).toBe(0);
  return out.stdout.trim().split('\n').filter(Boolean);
}

test("FerretDB's non-unique btrees go once their GIN companions exist; unique ones stay and refuse duplicates", async () => {
  const btrees = () => indexesOf('events').filter((def) => def.includes('USING btree'));
  const deadline = Date.now() + 15_000;
  while (btrees().some((def) => !def.startsWith('CREATE UNIQUE INDEX')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 250));

  const events = indexesOf('events');
  expect(events.filter((def) => def.includes('USING btree') && !def.startsWith('CREATE UNIQUE INDEX'))).toEqual([]);
  // `_id` and `tenant_id` (tenant + id) are Herald's unique indexes on events.
  expect(btrees()).toHaveLength(2);
  for (const field of ['_id', 'tenant', 'id', 'type', 'status', 'parentId']) {
    expect(events.filter((def) => def.includes('USING gin') && def.includes(`'${field}'::text`))).toHaveLength(1);
  }
  expect(psql(database, "SELECT indexname FROM pg_indexes WHERE tablename = 'other'").stdout.trim()).toBe('other_v');
  // FerretDB still lists every index Herald made, so Herald's start finds them made.
  const listed = (await store.events.listIndexes().toArray()).map((i) => i.name);
  expect(listed).toEqual(expect.arrayContaining(['_id_', 'tenant_id', 'tenant_status_time', 'time', 'tenant_parent']));

  const doc = { _id: 'tenant-a/evt-1', tenant: 'tenant-a', id: 'evt-1', status: 'delivered' } as never;
  await store.events.insertOne(doc);
  await expect(store.events.insertOne({ ...(doc as object), _id: 'other' } as never)).rejects.toMatchObject({ code: 11000 });
  await expect(store.events.insertOne(doc)).rejects.toMatchObject({ code: 11000 });
  expect(await store.events.find({ tenant: 'tenant-a', status: 'delivered' } as never).toArray()).toHaveLength(1);
});
