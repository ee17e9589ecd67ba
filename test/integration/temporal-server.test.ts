import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { HeraldEventType, HeraldStatus, HeraldSubscriptionIds, HeraldTenant } from '../../src/temporal/search-attributes';
import { freePortBlock } from '../harness/servers';
import { eventually } from '../harness/stack';

/**
 * The production-shaped Temporal server as `scripts/temporal-server.sh` starts it for `make
 * infra`, `make bench` and `make chaos`: once it says ready, Herald's API may start events at once,
 * and every start names Herald's search attributes.
 */

const POSTGRES = 'postgres://postgres@127.0.0.1:5432';

test("once the script is ready, a start naming all of Herald's search attributes is accepted", async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-temporal-server-'));
  const port = await freePortBlock(14);
  const database = `herald_test_ready_${process.pid}`;
  const script = spawn('bash', ['scripts/temporal-server.sh'], {
    env: {
      ...process.env,
      TEMPORAL_PORT: String(port),
      TEMPORAL_UI_PORT: String(port + 20),
      TEMPORAL_PG: POSTGRES,
      TEMPORAL_PG_DB: database,
      HERALD_DATA_DIR: dataDir,
    },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => script.once('exit', resolve));
  try {
    await eventually(() => existsSync(path.join(dataDir, 'temporal-server/ready')), 120_000, 'the script to say ready');
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
    } finally {
      await connection.close();
    }
  } finally {
    script.kill('SIGTERM');
    await exited;
    for (const db of [database, `${database}_visibility`]) {
      spawnSync('psql', [`${POSTGRES}/postgres`, '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`], { timeout: 30_000 });
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);
