import vm from 'node:vm';

/**
 * What Node's `vm` timeout costs per call: the Temporal SDK enters the workflow sandbox with
 * one per call unless `isolateExecutionTimeout` is 0 (patches/, HERALD_WORKFLOW_DEADLOCK_TIMEOUT_MS).
 * Usage: node dist/bench/vm-timeout.js
 */
const CALLS = 20_000;
const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' }); // as the SDK makes its context
const script = new vm.Script('1 + 1');

for (const options of [{}, { timeout: 5000 }, {}, { timeout: 5000 }]) {
  const start = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) script.runInContext(context, options);
  const used = process.cpuUsage(start);
  const label = 'timeout' in options ? `runInContext(ctx, { timeout: ${options.timeout} })` : 'runInContext(ctx)';
  console.log(
    `${label}: ${((used.user + used.system) / CALLS).toFixed(1)} µs CPU per call, ${(used.system / CALLS).toFixed(1)} µs of it in the kernel`,
  );
}
