import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStore, startTemporal } from './servers';

/** Starts one Temporal dev server and one store for the whole integration run. */
export default async function globalSetup(): Promise<void> {
  const [temporal, store] = await Promise.all([startTemporal(), startStore()]);
  const stateFile = path.join(os.tmpdir(), `herald-test-${process.pid}.json`);
  writeFileSync(
    stateFile,
    JSON.stringify({ temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, mongoBaseUrl: store.baseUrl }),
  );
  process.env.HERALD_TEST_STATE = stateFile;
  const shared = globalThis as { heraldServers?: unknown; heraldCleanup?: unknown };
  shared.heraldServers = [temporal.process, store.process].filter(Boolean);
  shared.heraldCleanup = store.cleanup;
}
