import { existsSync } from 'node:fs';
import path from 'node:path';

/** Where the bundle built by `npm run build` lands. */
export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '../../workflow-bundle.js');

/**
 * The worker loads the prebuilt workflow bundle when there is one (start-up in a second,
 * no webpack in production); otherwise it bundles the sources itself.
 */
export function workflowSource(bundlePath: string | undefined) {
  const codePath = bundlePath ?? DEFAULT_BUNDLE_PATH;
  if (existsSync(codePath)) return { workflowBundle: { codePath } };
  return { workflowsPath: require.resolve('../workflows') };
}
