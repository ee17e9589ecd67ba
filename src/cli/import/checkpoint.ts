import { readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';

/** A line of the input that was not sent, and why. */
export interface RejectedLine {
  line: number;
  reason: string;
}

/**
 * `<file>.herald-import`: how far an import got. `line` is the last line such that it and every
 * line before it is either acknowledged by the server or rejected; a re-run starts after it.
 * It belongs to one version of the file (size and modification time): a changed file starts
 * over, which is still safe since every event keeps the id it had (`importIds`).
 */
export interface Checkpoint {
  size: number;
  mtimeMs: number;
  line: number;
  rejected: RejectedLine[];
}

export const checkpointPath = (file: string) => `${file}.herald-import`;

export function readCheckpoint(file: string, stats: Stats): Checkpoint | undefined {
  try {
    const saved = JSON.parse(readFileSync(checkpointPath(file), 'utf8')) as Checkpoint;
    return saved.size === stats.size && saved.mtimeMs === stats.mtimeMs ? saved : undefined;
  } catch {
    return undefined; // none yet, or torn by a crash: starting over is safe
  }
}

/** Written aside and renamed, so that a kill mid-write leaves the previous checkpoint whole. */
export function writeCheckpoint(file: string, checkpoint: Checkpoint): void {
  const path = checkpointPath(file);
  writeFileSync(`${path}.tmp`, JSON.stringify(checkpoint));
  renameSync(`${path}.tmp`, path);
}

export function removeCheckpoint(file: string): void {
  rmSync(checkpointPath(file), { force: true });
}
