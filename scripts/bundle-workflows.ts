import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { DEFAULT_BUNDLE_PATH, WORKFLOW_INTERCEPTOR_MODULES } from '../src/temporal/workflow-source';

/** Prebuilds the workflow bundle, with its interceptor modules, so workers start without running webpack. */
async function main() {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../src/workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
  });
  await writeFile(DEFAULT_BUNDLE_PATH, code);
  console.log(`workflow bundle written to ${DEFAULT_BUNDLE_PATH} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
