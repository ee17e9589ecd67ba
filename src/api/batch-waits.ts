import { setTimeout } from 'node:timers/promises';
import { openBatches } from '../temporal/event-batches';
import type { BatchRun } from '../workflows/definitions';
import type { IngestDeps } from './ingest';
import { callTemporal } from './temporal-call';

/** How often a wait for batches asks whether they are still open. */
const POLL_MS = 200;

/**
 * Waits until these batches (`Prefer: respond-async`) have closed, so every event they hold has
 * its own workflow: true once they all have, false when `withinMs` passed first. Each look is a
 * Temporal call of its own, bounded as any (`callTemporal`).
 */
export async function batchesClosed(deps: IngestDeps, batches: BatchRun[], withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  let open = batches;
  for (;;) {
    open = await callTemporal(deps.connection, () => openBatches(deps.temporal, open));
    if (open.length === 0) return true;
    if (Date.now() >= until) return false;
    await setTimeout(POLL_MS);
  }
}
