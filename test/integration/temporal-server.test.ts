import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { HeraldEventType, HeraldStatus, HeraldSubscriptionIds, HeraldTenant } from '../../src/temporal/search-attributes';
import { startDeliverEvent } from '../../src/temporal/deliver-event-client';
import { freePort, freePortBlock } from '../harness/servers';
import { eventually } from '../harness/stack';

/**
 * The production-shaped Temporal server as `scripts/temporal-server.sh` starts it for `make
 * infra`, `make bench` and `make chaos`: once it says ready, Herald's API may start events at once,
 * and every start names Herald's search attributes.
 */

const POSTGRES = process.env.HERALD_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

test("once the script is ready, a start naming all of Herald's search attributes is accepted, and an event of the longest type shows in visibility", async () => {
  const database = `herald_test_ready_${process.pid}`;
  let dataDir: string | undefined;
  let script: ReturnType<typeof spawn> | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const signalGroup = (name: NodeJS.Signals) => {
    try {
      if (script?.pid !== undefined) process.kill(-script.pid, name);
    } catch {
      // the group is gone already
    }
  };
  const killGroup = () => signalGroup('SIGKILL');
  try {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-temporal-server-'));
    const port = await freePortBlock(14);
    const env = { ...process.env };
    delete env.TEMPORAL_PPROF_PORT; // a bench's server may be using them
    delete env.TEMPORAL_METRICS_PORT;
    // Its own process group: the server and the Web UI it starts go with it.
    script = spawn('bash', ['scripts/temporal-server.sh'], {
      env: {
        ...env,
        TEMPORAL_PORT: String(port),
        TEMPORAL_UI_PORT: String(await freePort()),
        TEMPORAL_PG: POSTGRES,
        TEMPORAL_PG_DB: database,
        HERALD_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let said = '';
    script.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    let code: string | undefined;
    exited = new Promise((resolve) => script!.once('exit', (c, signal) => resolve((code = String(c ?? signal)))));
    // Its own process group does not get a Ctrl-C of the test run: it goes when this process does.
    process.once('exit', killGroup);
    const ready = path.join(dataDir, 'temporal-server/ready');
    const log = path.join(dataDir, 'logs/temporal-server.log');
    const whatItSaid = () =>
      `${said}\nThe server's log ends:\n${existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '(no server log)'}`;
    const outcome = await eventually(
      () => (code !== undefined ? 'exited' : existsSync(ready) && 'ready'),
      120_000,
      'the script to say ready',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${whatItSaid()}`);
    });
    if (outcome === 'exited') throw new Error(`the script exited (${code}) before it was ready: ${whatItSaid()}`);
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const handle = await new Client({ connection }).workflow.start('readyProbe', {
        taskQueue: 'ready-probe',
        workflowId: 'ready-probe',
        typedSearchAttributes: [
          { key: HeraldTenant, value: 'probe' },
          { key: HeraldEventType, value: 'probe' },
          { key: HeraldSubscriptionIds, value: ['probe'] },
          { key: HeraldStatus, value: 'probe' },
        ],
      });
      await handle.terminate('probe');

      // The contract allows event types of 256 characters; SQL visibility keeps 255 of a Keyword,
      // and a longer value fails the workflow's visibility write for good.
      const client = new Client({ connection });
      const type = `${'a'.repeat(250)}.types`;
      const workflowId = 'event/probe/longest-type';
      await startDeliverEvent(client, 'ready-probe', workflowId, {
        tenant: 'probe',
        event: { id: 'longest-type', type, data: {}, occurredAt: new Date().toISOString(), receivedAt: new Date().toISOString() },
      });
      try {
        const listed = await eventually(
          async () => {
            for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) return wf;
            return undefined;
          },
          30_000,
          'the workflow in visibility',
        );
        expect(listed.typedSearchAttributes.get(HeraldEventType)).toBe(type.slice(0, 255));
      } finally {
        await client.workflow.getHandle(workflowId).terminate('probe');
      }
    } finally {
      await connection.close();
    }
  } finally {
    process.off('exit', killGroup);
    if (script?.pid !== undefined) {
      signalGroup('SIGTERM');
      const killed = setTimeout(killGroup, 20_000);
      await exited;
      clearTimeout(killed);
      killGroup(); // whatever outlived the script
    }
    for (const db of [database, `${database}_visibility`]) {
      spawnSync('psql', [`${POSTGRES}/postgres`, '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`], { timeout: 30_000 });
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);
