// The end of `make test`: each phase's wall time against its budget, each test file's, and the
// five slowest files. Exits 1 when a budget was overrun, so a slower suite is noticed the day
// it lands rather than the day CI's 90 minutes run out. Reads what scripts/test.sh wrote.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const MIN = 60_000;
/** Per phase, in ms; the tools phase is the one that may build from nothing (first run only). */
const PHASE_BUDGET = { tools: 15 * MIN, unit: 60_000, workflows: 60_000 };
const TOTAL_BUDGET = 25 * MIN; // everything but the tools phase
const FILE_BUDGET = { integration: 4 * MIN, unit: 60_000, workflows: 60_000 };

const phases = readFileSync(path.join(dir, 'phases.tsv'), 'utf8')
  .trim()
  .split('\n')
  .filter(Boolean)
  .map((line) => {
    const [name, ms, rc] = line.split('\t');
    return { name, ms: Number(ms), rc: Number(rc) };
  });

const files = [];
/** Each failed test (or file that failed to run) with the start of its message. */
const failures = [];
for (const project of Object.keys(FILE_BUDGET)) {
  const file = path.join(dir, `${project}.json`);
  if (!existsSync(file)) continue;
  const results = JSON.parse(readFileSync(file, 'utf8'));
  for (const r of results.testResults) {
    const name = path.relative(process.cwd(), r.name);
    files.push({ project, name, ms: r.endTime - r.startTime, passed: r.status === 'passed' });
    const failedTests = r.assertionResults.filter((a) => a.status === 'failed');
    // A failed beforeAll fails every test of its file with one message: shown once, with the count.
    for (const a of failedTests) {
      const message = a.failureMessages.join('\n');
      const same = failures.find((f) => f.file === name && f.message === message);
      if (same) same.more += 1;
      else failures.push({ file: name, where: `${name}: ${a.fullName}`, message, more: 0 });
    }
    if (r.status === 'failed' && failedTests.length === 0) failures.push({ file: name, where: name, message: r.message, more: 0 });
  }
}

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const overruns = [];
console.log('\nmake test: wall time per phase');
for (const p of phases) {
  const budget = PHASE_BUDGET[p.name];
  const over = budget !== undefined && p.ms > budget;
  if (over) overruns.push(`${p.name} took ${s(p.ms)}, budget ${s(budget)}`);
  console.log(
    `  ${p.name.padEnd(12)} ${s(p.ms).padStart(9)}${budget ? `  (budget ${s(budget)})` : ''}${p.rc ? '  FAILED' : ''}${over ? '  OVER BUDGET' : ''}`,
  );
}
const total = phases.filter((p) => p.name !== 'tools').reduce((sum, p) => sum + p.ms, 0);
if (total > TOTAL_BUDGET) overruns.push(`the run took ${s(total)} without the tools, budget ${s(TOTAL_BUDGET)}`);
console.log(
  `  ${'all but tools'.padEnd(12)} ${s(total).padStart(9)}  (budget ${s(TOTAL_BUDGET)})${total > TOTAL_BUDGET ? '  OVER BUDGET' : ''}`,
);

console.log('\nintegration files');
for (const f of files.filter((f) => f.project === 'integration').sort((a, b) => a.name.localeCompare(b.name))) {
  console.log(`  ${s(f.ms).padStart(9)}  ${f.name}${f.passed ? '' : '  FAILED'}`);
}
for (const f of files) {
  if (f.ms > FILE_BUDGET[f.project]) overruns.push(`${f.name} took ${s(f.ms)}, budget ${s(FILE_BUDGET[f.project])}`);
}
console.log('\nfive slowest test files');
for (const f of [...files].sort((a, b) => b.ms - a.ms).slice(0, 5)) console.log(`  ${s(f.ms).padStart(9)}  ${f.name}`);

// Last, so that a log cut to its tail (CI shows only the end) still names what failed and why.
const failedPhases = phases.filter((p) => p.rc !== 0);
if (failedPhases.length) {
  console.log(`\nfailed phases: ${failedPhases.map((p) => `${p.name} (exit ${p.rc})`).join(', ')}`);
  for (const f of failures) {
    const message = f.message
      .replace(/\u001b\[[0-9;]*m/g, '')
      .trim()
      .split('\n')
      .slice(0, 12)
      .join('\n    ');
    console.log(`  ${f.where}${f.more ? ` (and ${f.more} more of its file with the same message)` : ''}\n    ${message}`);
  }
  for (const p of failedPhases.filter((p) => p.name in FILE_BUDGET && !existsSync(path.join(dir, `${p.name}.json`)))) {
    console.log(`  ${p.name}: jest wrote no results; its own output above says why`);
  }
  const chaosLog = path.join(dir, 'chaos.log');
  if (failedPhases.some((p) => p.name === 'chaos') && existsSync(chaosLog)) {
    console.log(`  chaos, the end of its output:\n    ${readFileSync(chaosLog, 'utf8').trim().split('\n').slice(-15).join('\n    ')}`);
  }
}

if (overruns.length) {
  console.log(`\nover budget:\n${overruns.map((o) => `  ${o}`).join('\n')}`);
  process.exit(1);
}
