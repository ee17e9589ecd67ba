import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The real servers integration tests run against: the Temporal CLI's dev server and a
 * MongoDB-protocol store (MONGO_URL, else `mongod` on PATH, else the FerretDB wrapper),
 * on free loopback ports, never the dev stack's.
 */

export const TOOLS_DIR = process.env.HERALD_TOOLS_DIR ?? path.join(os.homedir(), '.cache/herald/bin');

export const SEARCH_ATTRIBUTES = [
  'HeraldTenant=Keyword',
  'HeraldEventType=Keyword',
  'HeraldSubscriptionIds=KeywordList',
  'HeraldStatus=Keyword',
];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A run of `count` consecutive free loopback ports (the Temporal server uses port..port+13),
 * below 32768: Temporal's SQL schema keeps membership ports in a smallint.
 */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_767 - 20_000 - count));
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** True when something accepts connections on the loopback port now. */
export function portIsOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portIsOpen(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

export function tool(name: string): string {
  const file = path.join(TOOLS_DIR, name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run "make tools" (or "make test", which builds it)`);
  return file;
}

export interface TemporalServer {
  address: string;
  /** The Web UI, which the browser test drives. */
  uiUrl: string;
  process: ChildProcess;
}

/**
 * The dev server normally listens within a second. Once in a fresh-clone run it neither
 * listened nor said why for a minute (a free port taken again between the probe and its
 * bind is one way), which failed the whole run: a start that does not listen within 30 s is
 * killed and tried again on other ports.
 */
export async function startTemporal(tries = 3): Promise<TemporalServer> {
  for (let attempt = 1; ; attempt++) {
    const [port, httpPort, metricsPort, uiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const child = spawn(
      tool('temporal'),
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--ui-port',
        String(uiPort),
        '--port',
        String(port),
        '--http-port',
        String(httpPort),
        '--metrics-port',
        String(metricsPort),
        '--log-level',
        'error',
        ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', sa]),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    try {
      await waitForPort(port, 30_000);
      return { address: `127.0.0.1:${port}`, uiUrl: `http://127.0.0.1:${uiPort}`, process: child };
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt >= tries) throw err;
      process.stderr.write(`Temporal dev server did not listen on ${port} (try ${attempt} of ${tries}); starting it again\n`);
    }
  }
}

export interface StoreServer {
  /** A URL without database; each test file appends its own database name. */
  baseUrl: string;
  process?: ChildProcess;
  /** Removes what the store left outside its process (its PostgreSQL database). */
  cleanup?: () => void;
}

/**
 * A PostgreSQL database of its own for FerretDB, when a PostgreSQL answers (CI machines run
 * one on 127.0.0.1:5432). FerretDB's SQLite backend filters on nothing but `_id` and reads
 * whole collections for any other query, so a test with ten thousand deliveries spends its
 * time there; on PostgreSQL the same filters run inside the database.
 * `HERALD_TEST_STORE=sqlite` keeps the SQLite backend.
 */
function postgresDatabase(): { url: string; drop: () => void } | null {
  if (process.env.HERALD_TEST_STORE === 'sqlite') return null;
  const server = process.env.HERALD_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
  const name = `herald_test_${process.pid}_${Date.now()}`;
  const psql = (sql: string) => spawnSync('psql', [`${server}/postgres`, '-qc', sql], { encoding: 'utf8', timeout: 15_000 });
  const created = psql(`CREATE DATABASE ${name}`);
  if (created.error || created.status !== 0) return null;
  return { url: `${server}/${name}`, drop: () => void psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export async function startStore(): Promise<StoreServer> {
  if (process.env.MONGO_URL) return { baseUrl: new URL('/', process.env.MONGO_URL).toString().replace(/\/$/, '') };
  const port = await freePort();
  const onPath = (process.env.PATH ?? '').split(':').some((p) => existsSync(path.join(p, 'mongod')));
  const tmp = () => mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'herald-store-'));
  if (onPath) {
    const child = spawn('mongod', ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', tmp(), '--quiet'], { stdio: 'ignore' });
    await waitForPort(port);
    return { baseUrl: `mongodb://127.0.0.1:${port}`, process: child };
  }
  const pg = postgresDatabase();
  // Otherwise SQLite on tmpfs when there is one: the test store's data is thrown away, and
  // SQLite's fsyncs on a real disk would make the store, not Herald, what the tests measure.
  const backend = pg ? ['-postgresql', pg.url] : ['-dir', tmp()];
  const child = spawn(tool('herald-ferretdb'), ['-listen', `127.0.0.1:${port}`, ...backend], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Herald's idempotent writes insert and take a duplicate key as "already recorded"; FerretDB
  // logs each of those at ERROR, thousands per run, hiding its real errors: those still show.
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!line.includes('duplicate key value violates unique constraint')) process.stderr.write(`${line}\n`);
  });
  await waitForPort(port);
  return { baseUrl: `mongodb://127.0.0.1:${port}`, process: child, ...(pg && { cleanup: pg.drop }) };
}
