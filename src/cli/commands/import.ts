import { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { createReadStream } from 'node:fs';
import { clientFor, outputOf, parse } from '../context';
import { checkpointPath } from '../import/checkpoint';
import { importFile, type ImportSummary } from '../import/importer';
import { emit, table } from '../output';

/**
 * Generous retries: a long import waits out rate limits, load shedding (503 while the API is
 * still starting earlier events) and restarts, for minutes rather than seconds.
 */
const IMPORT_RETRIES = { attempts: 60, maxDelayMs: 60_000 };

/** Lines in the file, for the progress bar's total: one streamed pass counting newline bytes, so any size fits in memory. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    last = chunk[chunk.length - 1]!;
  }
  return last === 10 ? lines : lines + 1;
}

function report(s: ImportSummary): string {
  const head = `${s.file}: ${s.lines} lines${s.resumedAfter ? ` (resumed after line ${s.resumedAfter})` : ''}, ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.rejected.length} rejected in ${s.seconds.toFixed(1)} s`;
  return s.rejected.length
    ? `${head}\n\n${table(s.rejected, [
        { header: 'LINE', value: (r) => r.line },
        { header: 'REASON', value: (r) => r.reason },
      ])}`
    : head;
}

export function importCommand(): Command {
  return (
    new Command('import')
      .description(
        `send the events of an NDJSON file (one per line) in batches; resumable: a re-run after an interruption sends no event twice (progress in <file>.herald-import)`,
      )
      .argument('<file>', 'NDJSON, one event per line')
      // Above 500 is taken as 500, as it always was: scripts pass 1000.
      .option('--batch-size <n>', 'events per request (at most 500)', parse.integerIn(1, Infinity), 500)
      // One batch at a time by default: the API sheds load above 500 events being started, so a
      // second 500-event batch in flight mostly earns 503s.
      .option('--concurrency <n>', 'batches in flight', parse.integerIn(1, 64), 1)
      .action(async (file: string, opts: { batchSize: number; concurrency: number }, command: Command) => {
        const client = clientFor(command, IMPORT_RETRIES);
        // On a terminal only: the bar draws over itself, which a log file or pipe should not get.
        const bar = new SingleBar(
          {
            format:
              'import [{bar}] {value}/{total} lines | {accepted} accepted, {duplicates} duplicates, {rejected} rejected | {eta_formatted}',
            stream: process.stderr,
          },
          Presets.shades_classic,
        );
        bar.start(await countLines(file), 0, { accepted: 0, duplicates: 0, rejected: 0 });
        let summary: ImportSummary;
        try {
          summary = await importFile(client, file, { ...opts, onProgress: ({ line, ...counts }) => bar.update(line, counts) });
        } catch (err) {
          process.stderr.write(`\nimport stopped; a re-run continues from ${checkpointPath(file)}\n`);
          throw err;
        } finally {
          bar.stop();
        }
        emit(outputOf(command), summary, report);
        if (summary.rejected.length > 0) process.exitCode = 1;
      })
  );
}
