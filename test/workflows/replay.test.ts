import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromText } from './history-file';
import { quietSdkLogs } from './workflow-env';

/**
 * Histories recorded from each released shape of `deliverEvent`
 * (scripts/record-workflow-histories.ts) replay on today's workflow code: a change that
 * would break the workflows running when a worker is upgraded fails here, in seconds.
 */

const HISTORIES = path.join(__dirname, 'histories');
const histories = readdirSync(HISTORIES).flatMap((shape) =>
  readdirSync(path.join(HISTORIES, shape)).map((file) => ({
    shape,
    file,
    history: historyFromText(readFileSync(path.join(HISTORIES, shape, file), 'utf8')),
  })),
);

test('there is a recorded history of every path for each released shape', () => {
  const names = (shape: string) => histories.filter((h) => h.shape === shape).map((h) => h.file.split('.')[0]);
  const shapes = [...new Set(histories.map((h) => h.shape))];
  expect(shapes.length).toBeGreaterThanOrEqual(5);
  for (const shape of shapes) {
    expect(new Set(names(shape))).toEqual(
      new Set([
        'retry-signal-while-waiting',
        'cancel-during-attempt',
        'reopen-after-failure',
        'continue-as-new-with-carried-cancel',
        'workflow-cancelled',
      ]),
    );
  }
});

test('every recorded history replays on the current workflow code', async () => {
  quietSdkLogs();
  const failures: string[] = [];
  const replays = Worker.runReplayHistories(
    { workflowsPath: require.resolve('../../src/workflows') },
    histories.map((h) => ({ workflowId: `${h.shape}/${h.file}`, history: h.history })),
  );
  for await (const result of replays) {
    if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
  }
  expect(failures).toEqual([]);
});
