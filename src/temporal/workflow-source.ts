import { existsSync } from 'node:fs';
import path from 'node:path';
import { WORKFLOW_TRACING_MODULE } from './tracing';

/** Where the bundle built by `npm run build` lands. */
export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '../../workflow-bundle.js');

/**
 * The same workflows with OpenTelemetry's workflow interceptors bundled in, beside the plain
 * bundle. A worker that does not trace loads the plain one, so tracing costs nothing when off.
 */
export function tracedBundlePath(bundlePath: string): string {
  return `${bundlePath.replace(/\.js$/, '')}.traced.js`;
}

/** The workflow interceptor modules each bundle is built with. */
export function workflowInterceptorModules(traced: boolean): string[] {
  return traced ? [WORKFLOW_TRACING_MODULE] : [];
}

/**
 * The worker loads the prebuilt workflow bundle when there is one (start-up in a second,
 * no webpack in production); otherwise it bundles the sources itself, with the interceptor
 * modules the worker then passes on.
 */
export function workflowSource(bundlePath: string | undefined, traced: boolean) {
  const plain = bundlePath ?? DEFAULT_BUNDLE_PATH;
  const codePath = traced ? tracedBundlePath(plain) : plain;
  if (existsSync(codePath)) return { workflowBundle: { codePath }, workflowModules: [] };
  return { workflowsPath: require.resolve('../workflows'), workflowModules: workflowInterceptorModules(traced) };
}
