import { existsSync } from 'node:fs';
import path from 'node:path';
import { WORKFLOW_TRACING_MODULE } from './tracing';

/** Where the bundle built by `npm run build` lands. */
export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '../../workflow-bundle.js');

/**
 * The workflow interceptor modules, in every bundle whether the worker traces or not: workflow
 * code must run the same way on every worker that may replay it (src/workflows/tracing-interceptors.ts).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [WORKFLOW_TRACING_MODULE];

/**
 * The worker loads the prebuilt workflow bundle when there is one (start-up in a second,
 * no webpack in production); otherwise it bundles the sources itself, with the interceptor
 * modules the worker passes on.
 */
export function workflowSource(bundlePath: string | undefined) {
  const codePath = bundlePath ?? DEFAULT_BUNDLE_PATH;
  if (existsSync(codePath)) return { workflowBundle: { codePath }, workflowModules: [] };
  return { workflowsPath: require.resolve('../workflows'), workflowModules: WORKFLOW_INTERCEPTOR_MODULES };
}
