import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { DEFAULT_BUNDLE_PATH, tracedBundlePath, workflowInterceptorModules } from '../src/temporal/workflow-source';

/**
 * Prebuilds the workflow bundles so workers start without running webpack: the plain one,
 * and the one with the tracing interceptors that a worker exporting traces loads.
 */
async function main() {
  const bundles = [
    { codePath: DEFAULT_BUNDLE_PATH, traced: false },
    { codePath: tracedBundlePath(DEFAULT_BUNDLE_PATH), traced: true },
  ];
  for (const { codePath, traced } of bundles) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '../src/workflows'),
      workflowInterceptorModules: workflowInterceptorModules(traced),
    });
    await writeFile(codePath, code);
    console.log(`workflow bundle written to ${codePath} (${(code.length / 1024).toFixed(0)} KiB)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
