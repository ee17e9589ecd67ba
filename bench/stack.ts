import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, freePortBlock, TOOLS_DIR, waitForPort } from '../test/harness/servers';

/**
 * The production-shaped Herald that `make bench` and `make chaos` measure: the real Temporal
 * server on this machine's PostgreSQL (scripts/temporal-server.sh), FerretDB on PostgreSQL (or
 * SQLite), worker processes and one API process, every one a child process on free loopback
 * ports that can be killed and started again. Everything it creates is dropped by `stop()`.
 */

const ROOT = path.resolve(__dirname, '../..');
const POSTGRES = process.env.HERALD_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

export type StoreBackend = 'postgresql' | 'sqlite';

export interface StackOptions {
  workers: number;
  store: StoreBackend;
  /** Extra environment for the API and worker processes. */
  env?: Record<string, string>;
  /** Where logs and SQLite files go. */
  dataDir?: string;
  /** Node flags for the workers, e.g. --cpu-prof. */
  workerNodeArgs?: string[];
  /** Node options of the API process (`BENCH_PROFILE=1`: a CPU profile). */
  apiNodeArgs?: string[];
  /** Delivery to loopback receivers needs the private-target guard off. */
  allowPrivateTargets?: boolean;
}

/** One child process that can be stopped, killed and started again with the same command. */
export class ManagedProcess {
  child: ChildProcess | undefined;
  restarts = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    /** Resolves once the process is ready to serve. */
    private readonly ready: () => Promise<void>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // Its own process group, so a kill reaches the helpers a script starts.
    const child = spawn(this.command, this.args, {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      cwd: ROOT,
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.name} exited (${code ?? signal}) while starting; see ${this.logFile}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([this.ready(), exited]);
  }

  /** Sends the signal to the whole process group and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      process.kill(-child.pid!, signal);
    } catch {
      child.kill(signal);
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    this.restarts += 1;
    await this.start();
  }

  /** Resident set size in bytes, summed over the process group's processes we can see. */
  rss(): number {
    if (!this.running || !this.child?.pid) return 0;
    return groupRss(this.child.pid);
  }

  /** CPU time (user + system) in ms used so far by the process group's processes we can see. */
  cpuMs(): number {
    if (!this.running || !this.child?.pid) return 0;
    const pgid = this.child.pid;
    let total = 0;
    forEachProcess((proc) => {
      if (proc.pgid === pgid) total += proc.cpuMs;
    });
    return total;
  }

  /**
   * CPU time in ms used so far by the threads of the process group's processes, summed by
   * thread name. Node names all its threads `node`; they are told apart by when they were
   * made (thread ids grow): the main thread's id is the process's, V8's helpers (garbage
   * collection) start before the Temporal SDK's Rust runtime (`tokio-runtime-w`), and the
   * worker thread the SDK runs workflows in starts after it. libuv's pool starts at its first
   * use, which may come before or after; Herald's worker barely uses it.
   */
  threadCpuMs(): Record<string, number> {
    const byName: Record<string, number> = {};
    if (!this.running || !this.child?.pid) return byName;
    const pgid = this.child.pid;
    forEachProcess((proc) => {
      if (proc.pgid !== pgid) return;
      const threads: ProcStat[] = [];
      forEachStat(`/proc/${proc.pid}/task`, (thread) => threads.push(thread));
      threads.sort((a, b) => Number(a.pid) - Number(b.pid));
      const tokio = threads.find((t) => t.name.startsWith('tokio'));
      for (const thread of threads) {
        let name = thread.name;
        if (name === 'node') {
          if (thread.pid === proc.pid) name = 'node (main)';
          else if (tokio && Number(thread.pid) > Number(tokio.pid)) name = 'node (after the Rust runtime: workflow thread)';
          else name = 'node (before the Rust runtime: V8 helpers)';
        }
        byName[name] = (byName[name] ?? 0) + thread.cpuMs;
      }
    });
    return byName;
  }
}

/** Linux reports CPU times in clock ticks of USER_HZ, 100 per second on every mainstream build. */
const TICK_MS = 10;

interface ProcStat {
  pid: string;
  name: string;
  pgid: number;
  /** User + system CPU time so far. */
  cpuMs: number;
}

/** Calls `visit` with each visible process's /proc stat; processes that end meanwhile are skipped. */
function forEachProcess(visit: (proc: ProcStat) => void): void {
  forEachStat('/proc', visit);
}

/** Visits the `stat` of every numbered entry of `dir`: the processes of /proc, or one process's threads. */
function forEachStat(dir: string, visit: (proc: ProcStat) => void): void {
  for (const pid of readdirSafe(dir)) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`${dir}/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // After the parenthesised name: field 5 (index 2) is the process group id, fields 14
      // and 15 (indices 11 and 12) are utime and stime.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      visit({ pid, name, pgid: Number(fields[2]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS });
    } catch {
      // the process ended while we looked
    }
  }
}

/**
 * CPU ms of the PostgreSQL backends connected to `databases` (a backend's title is
 * `postgres: [cluster: ]user database host(port) state`), so tests or other runs on the same
 * PostgreSQL are not counted; nor are its shared background processes (WAL writer,
 * checkpointer). A backend that ended took its time with it, so this undercounts when
 * connections are closed.
 */
export function postgresCpuMs(databases: readonly string[]): number {
  let total = 0;
  forEachProcess((proc) => {
    if (proc.name !== 'postgres') return;
    const title = /^postgres: (?:\S+: )?\S+ (\S+) /.exec(readCmdline(proc.pid));
    if (title && databases.includes(title[1])) total += proc.cpuMs;
  });
  return total;
}

/** CPU ms one process has used so far; 0 once it ended. */
export function processCpuMs(pid: number): number {
  let total = 0;
  forEachProcess((proc) => {
    if (proc.pid === String(pid)) total = proc.cpuMs;
  });
  return total;
}

function readCmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return ''; // the process ended while we looked
  }
}

function groupRss(pgid: number): number {
  let total = 0;
  forEachProcess((proc) => {
    if (proc.pgid !== pgid) return;
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // the process ended while we looked
    }
  });
  return total;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function psql(sql: string): void {
  const result = spawnSync('psql', [`${POSTGRES}/postgres`, '-qc', sql], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`psql ${sql}: ${result.stderr || result.error}`);
}

export class ProductionStack {
  readonly temporal: ManagedProcess;
  readonly store: ManagedProcess;
  readonly workers: ManagedProcess[];
  readonly api: ManagedProcess;
  readonly adminKey = `hk_admin_bench_${randomBytes(12).toString('hex')}`;
  readonly apiUrl: string;
  readonly temporalAddress: string;
  readonly temporalUiUrl: string;
  readonly mongoUrl: string;
  readonly taskQueue = 'herald';
  readonly dataDir: string;
  /** The PostgreSQL databases this run created: Temporal's, its visibility's and (on PostgreSQL) the store's. */
  readonly databases: string[];
  /** Temporal's two databases. */
  readonly temporalDatabases: string[];
  /** The store's database when FerretDB runs on PostgreSQL (none on SQLite). */
  readonly storeDatabases: string[];

  private constructor(
    readonly options: StackOptions,
    ports: { temporal: number; ui: number; store: number; api: number; metrics: number[] },
    runId: string,
  ) {
    this.dataDir = options.dataDir ?? path.join(os.tmpdir(), `herald-bench-${runId}`);
    const logs = path.join(this.dataDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const temporalDb = `herald_bench_${runId}`;
    const storeDb = `herald_bench_store_${runId}`;
    this.temporalDatabases = [temporalDb, `${temporalDb}_visibility`];
    this.storeDatabases = options.store === 'postgresql' ? [storeDb] : [];
    this.databases = [...this.temporalDatabases, ...this.storeDatabases];
    this.temporalAddress = `127.0.0.1:${ports.temporal}`;
    this.temporalUiUrl = `http://127.0.0.1:${ports.ui}`;
    this.mongoUrl = `mongodb://127.0.0.1:${ports.store}/herald`;
    this.apiUrl = `http://127.0.0.1:${ports.api}`;

    const readyFile = path.join(this.dataDir, 'temporal-server/ready');
    this.temporal = new ManagedProcess(
      'temporal',
      'bash',
      ['scripts/temporal-server.sh'],
      {
        TEMPORAL_PORT: String(ports.temporal),
        TEMPORAL_UI_PORT: String(ports.ui),
        TEMPORAL_PG: POSTGRES,
        TEMPORAL_PG_DB: temporalDb,
        HERALD_DATA_DIR: this.dataDir,
      },
      path.join(logs, 'temporal-script.log'),
      async () => {
        // A restart must not take the previous run's ready file for its own.
        const startedAt = Date.now() - 1_000;
        const fresh = () => existsSync(readyFile) && statSync(readyFile).mtimeMs >= startedAt;
        const deadline = Date.now() + 180_000;
        while (!fresh()) {
          if (Date.now() > deadline) throw new Error(`the Temporal server did not get ready; see ${logs}`);
          await sleep(200);
        }
      },
    );
    const backend =
      options.store === 'postgresql' ? ['-postgresql', `${POSTGRES}/${storeDb}`] : ['-dir', path.join(this.dataDir, 'ferretdb')];
    this.store = new ManagedProcess(
      'store',
      path.join(TOOLS_DIR, 'herald-ferretdb'),
      ['-listen', `127.0.0.1:${ports.store}`, ...backend],
      {},
      path.join(logs, 'ferretdb.log'),
      () => waitForPort(ports.store),
    );
    const encryptionKey = randomBytes(32).toString('base64');
    const common = {
      TEMPORAL_ADDRESS: this.temporalAddress,
      MONGO_URL: this.mongoUrl,
      HERALD_TASK_QUEUE: this.taskQueue,
      HERALD_ADMIN_KEY: this.adminKey,
      HERALD_ENCRYPTION_KEY: encryptionKey,
      HERALD_ALLOW_PRIVATE_TARGETS: options.allowPrivateTargets === false ? '0' : '1',
      HERALD_DATA_DIR: this.dataDir,
      HERALD_LOG_LEVEL: 'warn',
      ...options.env,
    };
    this.workers = Array.from({ length: options.workers }, (_, i) => {
      const log = path.join(logs, `worker-${i + 1}.log`);
      return new ManagedProcess(
        `worker-${i + 1}`,
        process.execPath,
        [...(options.workerNodeArgs ?? []), path.join(ROOT, 'dist/src/worker.js')],
        { ...common, HERALD_WORKER_METRICS_PORT: String(ports.metrics[i]) },
        log,
        () => waitForPort(ports.metrics[i], 120_000),
      );
    });
    this.api = new ManagedProcess(
      'api',
      process.execPath,
      [...(options.apiNodeArgs ?? []), path.join(ROOT, 'dist/src/api.js')],
      { ...common, HERALD_PORT: String(ports.api), HERALD_HOST: '127.0.0.1' },
      path.join(logs, 'api.log'),
      () => waitForPort(ports.api, 60_000),
    );
  }

  static async start(options: StackOptions): Promise<ProductionStack> {
    for (const bin of ['temporal-server', 'temporal-sql-tool', 'temporal-ui-server', 'herald-ferretdb']) {
      if (!existsSync(path.join(TOOLS_DIR, bin)))
        throw new Error(`${bin} is missing from ${TOOLS_DIR}: run "bash scripts/tools.sh server"`);
    }
    const runId = `${Date.now()}_${randomBytes(2).toString('hex')}`;
    const ports = {
      temporal: await freePortBlock(14),
      ui: await freePort(),
      store: await freePort(),
      api: await freePort(),
      metrics: await Promise.all(Array.from({ length: options.workers }, () => freePort())),
    };
    const stack = new ProductionStack(options, ports, runId);
    // The servers run in process groups of their own: Ctrl-C on the driver must stop them too.
    const interrupted = (signal: NodeJS.Signals) => {
      console.error(`\n${signal}: stopping the stack...`);
      void stack.stop().finally(() => process.exit(130));
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    try {
      if (options.store === 'postgresql') psql(`CREATE DATABASE herald_bench_store_${runId}`);
      await Promise.all([stack.temporal.start(), stack.store.start()]);
      // Workers first: the worker creates the store's indexes and the retention schedule.
      await Promise.all(stack.workers.map((w) => w.start()));
      await stack.api.start();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  processes(): ManagedProcess[] {
    return [this.api, ...this.workers, this.store, this.temporal];
  }

  /** Stops everything (API and workers first) and drops the databases this run created. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    for (const p of [this.api, ...this.workers]) await p.stop('SIGTERM', 20_000);
    await Promise.all([this.store.stop(), this.temporal.stop()]);
    if (options.keepData) return;
    for (const db of this.databases) {
      try {
        psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      } catch {
        // best effort: a database left behind is named herald_bench_* and easy to find
      }
    }
    rmSync(path.join(this.dataDir, 'ferretdb'), { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
