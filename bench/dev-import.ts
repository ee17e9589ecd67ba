import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeraldHttp } from './herald-client';
import { BenchReceiver } from './receiver';

/**
 * The speed issue's `make dev` target, measured against a running `make dev` (Temporal dev
 * server, the embedded store): `herald import` of DEV_IMPORT_EVENTS (2,000) events to one
 * webhook on a loopback receiver, and how long after the import's end the last delivery came.
 * Env: HERALD_URL (default http://127.0.0.1:8080), HERALD_ADMIN_KEY (default: the dev stack's
 * .herald/admin-key). Writes bench/results/dev-import-<time>.json.
 */
async function main() {
  const url = process.env.HERALD_URL ?? 'http://127.0.0.1:8080';
  const adminKey = process.env.HERALD_ADMIN_KEY ?? readFileSync('.herald/admin-key', 'utf8').trim();
  const count = Number(process.env.DEV_IMPORT_EVENTS ?? 2_000);
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = new BenchReceiver({ secret, verifyEvery: 20 });
  await receiver.start();
  const http = new HeraldHttp(url, 8);
  const run = `dev-import-${Date.now()}`;
  const tenant = `bench-${run}`;
  const key = await http.tenantKey(adminKey, tenant);
  await http.subscribe(key, `${receiver.url}/import`, ['bench.import'], secret, 5_000);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-dev-import-'));
  const file = path.join(dir, 'events.ndjson');
  const events = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ type: 'bench.import', subject: { type: 'bench', id: `s${i % 50}` }, data: { run, sentAt: Date.now(), i } }),
  );
  writeFileSync(file, events.join('\n') + '\n');
  const t0 = Date.now();
  const cli = spawn(process.execPath, [path.resolve(__dirname, '../src/cli/main.js'), 'import', file, '--json'], {
    env: { ...process.env, HERALD_URL: url, HERALD_API_KEY: key },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  cli.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
  const importedMs = Date.now() - t0;
  if (code !== 0) throw new Error(`herald import exited ${code}`);
  // A batch whose answer was lost is sent again: its events come back as duplicates, accepted all the same.
  const summary = JSON.parse(stdout) as { accepted: number; duplicates: number };
  const accepted = summary.accepted + summary.duplicates;
  console.log(`imported ${accepted} events in ${(importedMs / 1000).toFixed(1)} s; waiting for the deliveries...`);
  const complete = await receiver.until(() => receiver.received(run) >= accepted, 600_000);
  const lastAfterImportMs = Date.now() - t0 - importedMs;
  const result = {
    measuredAt: new Date().toISOString(),
    events: count,
    accepted,
    importMs: importedMs,
    delivered: receiver.received(run),
    complete,
    lastDeliveryAfterImportMs: lastAfterImportMs,
    badSignatures: receiver.counts.badSignatures,
  };
  console.log(JSON.stringify(result, null, 2));
  const results = path.resolve('bench/results');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    path.join(results, `dev-import-${result.measuredAt.slice(0, 19).replaceAll(':', '')}Z.json`),
    JSON.stringify(result, null, 2) + '\n',
  );
  rmSync(dir, { recursive: true, force: true });
  await http.close();
  await receiver.close();
  if (!complete || result.badSignatures > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
