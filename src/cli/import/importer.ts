import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { HeraldProblemError, type AcceptedEvent, type EventInput, type HeraldClient } from '../../client';
import { ingestedEventSchema, MAX_BATCH, MAX_BODY_BYTES } from '../../domain/schemas';
import { readCheckpoint, removeCheckpoint, writeCheckpoint, type RejectedLine } from './checkpoint';

/**
 * `herald import <file.ndjson>`: one event per line, sent in batches, resumable without
 * duplicates. An event without an id gets one derived from its line (number and text), so a
 * re-run sends the ids the interrupted run sent and the server answers `duplicate: true`;
 * the checkpoint only saves the work of re-sending what was already acknowledged.
 */

export interface ImportOptions {
  batchSize?: number;
  /** Batches in flight at once. */
  concurrency?: number;
  /** Called after each acknowledged batch. */
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  /** Lines done: acknowledged or rejected, in order from the start of the file. */
  line: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface ImportSummary {
  file: string;
  /** The line a resumed run started after (0 for a fresh run). */
  resumedAfter: number;
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: RejectedLine[];
  seconds: number;
}

interface Item {
  line: number;
  event: EventInput & { id: string };
  /** Its share of a batch's body: its JSON and a comma. */
  bytes: number;
}

/** A batch's body stays under the API's limit (413 beyond it), with room for `{"events":[…]}`. */
const BATCH_BODY_BYTES = MAX_BODY_BYTES - 1024;

interface Batch {
  items: Item[];
  /** The last line read into this batch, rejected ones included. */
  lastLine: number;
  done: boolean;
}

/** Buckets of `importIds`' occurrence counts: 16 MiB, whatever the file's length. */
const ID_BUCKETS = 1 << 22;

/**
 * Ids for the events of a file's lines that have none, from the file's path, the line's text
 * and how many lines before it fell in the same bucket of texts (every earlier copy of the same
 * text does): each run of the file gives the same ones, and an edit (a bad line fixed or
 * removed) changes the ids only of the later lines that share a bucket with it: one line in
 * four million after it. From the line's number, removing a bad line gave every event after it a
 * new id: all sent again. Identical lines stay distinct events, and so do identical lines of two
 * files. Called with every non-blank line, in order.
 */
export function importIds(file: string): (text: string) => string {
  const name = path.resolve(file);
  // Counts in a fixed table, not per distinct text: a Map of every line's text outgrew memory,
  // and V8's Map stops at 2^24 entries.
  const counts = new Uint32Array(ID_BUCKETS);
  return (text) => {
    const bucket = createHash('sha256').update(text).digest().readUInt32BE(0) & (ID_BUCKETS - 1);
    const occurrence = ++counts[bucket];
    return `imp_${createHash('sha256').update(`${name}\n${occurrence}\n${text}`).digest('hex').slice(0, 32)}`;
  };
}

/** An NDJSON line as an event, or why it is not one (checked with the schema the API validates with). */
function parseLine(line: number, text: string, id: string): Item | RejectedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { line, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const parsed = ingestedEventSchema.safeParse(value);
  if (!parsed.success) return { line, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ') };
  const event = { ...parsed.data, id: parsed.data.id ?? id };
  const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
  if (bytes > BATCH_BODY_BYTES) return { line, reason: `(event): over the API's ${MAX_BODY_BYTES / 1024} KiB body limit` };
  return { line, event, bytes };
}

/** The batch items a 400 names (`events.<index>.…`), with the server's reasons. */
function rejectedItems(error: HeraldProblemError, items: Item[]): Map<number, string> {
  const reasons = new Map<number, string>();
  for (const { path, message } of error.errors ?? []) {
    const match = /^events\.(\d+)(?:\.(.*))?$/.exec(path);
    const item = match && items[Number(match[1])];
    if (!item) continue;
    const reason = `${match[2] || '(event)'}: ${message}`;
    reasons.set(item.line, reasons.has(item.line) ? `${reasons.get(item.line)}; ${reason}` : reason);
  }
  return reasons;
}

export async function importFile(client: HeraldClient, file: string, options: ImportOptions = {}): Promise<ImportSummary> {
  const batchSize = Math.min(options.batchSize ?? MAX_BATCH, MAX_BATCH);
  const concurrency = options.concurrency ?? 1;
  const started = Date.now();
  const stats = statSync(file);
  const checkpoint = readCheckpoint(file, stats);
  const resumedAfter = checkpoint?.line ?? 0;
  const rejected: RejectedLine[] = [...(checkpoint?.rejected ?? [])];
  const counts = { accepted: 0, duplicates: 0 };
  let acknowledgedLine = resumedAfter;

  const pending: Batch[] = [];
  const inFlight = new Set<Promise<void>>();

  /** Moves the checkpoint over every batch finished in order from the front. */
  function advance(): void {
    while (pending[0]?.done) acknowledgedLine = pending.shift()!.lastLine;
    writeCheckpoint(file, {
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      line: acknowledgedLine,
      rejected: rejected.filter((r) => r.line <= acknowledgedLine),
    });
    options.onProgress?.({ line: acknowledgedLine, ...counts, rejected: rejected.length });
  }

  /** Sends a batch; items the server refuses are set aside and the rest sent again. */
  async function send(batch: Batch): Promise<void> {
    let items = batch.items;
    while (items.length > 0) {
      let results: AcceptedEvent[];
      try {
        results = await client.events.sendBatch(items.map((i) => i.event));
      } catch (err) {
        // 400: invalid items; 403: items outside a limited key's subjects or types. Both name them.
        const refused =
          err instanceof HeraldProblemError && (err.status === 400 || err.status === 403)
            ? rejectedItems(err, items)
            : new Map<number, string>();
        if (refused.size === 0) throw err;
        for (const [line, reason] of refused) rejected.push({ line, reason });
        items = items.filter((i) => !refused.has(i.line));
        continue;
      }
      for (const r of results) counts[r.duplicate ? 'duplicates' : 'accepted']++;
      break;
    }
    batch.done = true;
    advance();
  }

  async function dispatch(batch: Batch): Promise<void> {
    pending.push(batch);
    const sending = send(batch).finally(() => inFlight.delete(sending));
    // A failure surfaces through the race below or the final wait; until then it is not unhandled.
    sending.catch(() => undefined);
    inFlight.add(sending);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }

  let line = 0;
  const idOf = importIds(file);
  let items: Item[] = [];
  let bytes = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const read of lines) {
      line++;
      // A byte-order mark (files saved on Windows) is no part of the first line's JSON.
      const text = line === 1 && read.startsWith('\uFEFF') ? read.slice(1) : read;
      if (text.trim() === '') continue;
      const id = idOf(text); // also for the lines a resumed run skips: they count for the ids after them
      if (line <= resumedAfter) continue;
      const parsed = parseLine(line, text, id);
      if (!('event' in parsed)) {
        rejected.push(parsed);
      } else {
        // A batch goes before this event would take its body past the limit.
        if (bytes + parsed.bytes > BATCH_BODY_BYTES) {
          await dispatch({ items, lastLine: line - 1, done: false });
          [items, bytes] = [[], 0];
        }
        items.push(parsed);
        bytes += parsed.bytes;
      }
      if (items.length === batchSize) {
        await dispatch({ items, lastLine: line, done: false });
        [items, bytes] = [[], 0];
      }
    }
    await dispatch({ items, lastLine: line, done: false });
    await Promise.all(inFlight);
  } catch (err) {
    // Let the batches already sent finish, so the checkpoint keeps their progress.
    await Promise.allSettled(inFlight);
    throw err;
  }
  removeCheckpoint(file);
  return {
    file,
    resumedAfter,
    lines: line,
    ...counts,
    rejected: rejected.sort((a, b) => a.line - b.line),
    seconds: (Date.now() - started) / 1000,
  };
}
