/**
 * Load shapes for the bench and chaos drivers: a closed loop (N callers, each sending again
 * as soon as its answer arrives) and an open loop (a fixed offered rate, whatever the answers
 * take, as real producers behave), plus the percentile summary every scenario reports.
 */

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(values).sort();
  // Nearest-rank percentiles: the value below which p% of the samples fall.
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const sum = sorted.reduce((a, b) => a + b, 0);
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1], mean: sum / sorted.length };
}

export interface LoadResult {
  /** Calls that completed without throwing. */
  ok: number;
  failed: number;
  /** Latency of every successful call, in ms. */
  latencies: number[];
  elapsedMs: number;
  /** Error messages and how often each occurred. */
  errors: Record<string, number>;
}

function newResult(): LoadResult {
  return { ok: 0, failed: 0, latencies: [], elapsedMs: 0, errors: {} };
}

async function timed(result: LoadResult, task: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await task();
    result.ok += 1;
    result.latencies.push(performance.now() - started);
  } catch (err) {
    result.failed += 1;
    const message = err instanceof Error ? err.message : String(err);
    result.errors[message] = (result.errors[message] ?? 0) + 1;
  }
}

/** `concurrency` callers, each calling `task` again as soon as the last call returned. */
export async function closedLoop(options: {
  concurrency: number;
  durationMs: number;
  task: () => Promise<void>;
  onTick?: (elapsedMs: number, result: LoadResult) => void;
}): Promise<LoadResult> {
  const result = newResult();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const ticker = setInterval(() => options.onTick?.(performance.now() - started, result), 250);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) await timed(result, options.task);
    }),
  );
  clearInterval(ticker);
  result.elapsedMs = performance.now() - started;
  return result;
}

/**
 * Calls `task` at `rate` per second for `durationMs`, without waiting for answers, up to
 * `maxInFlight` outstanding calls (beyond that a call is counted as failed, not queued, so the
 * driver's own memory stays bounded). Resolves once every call has returned.
 */
export async function openLoop(options: {
  rate: number;
  durationMs: number;
  task: (index: number) => Promise<void>;
  maxInFlight?: number;
  onTick?: (elapsedMs: number, result: LoadResult) => void;
}): Promise<LoadResult> {
  const result = newResult();
  const maxInFlight = options.maxInFlight ?? 2_000;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let launched = 0;
  let lastTick = 0;
  while (true) {
    const elapsed = performance.now() - started;
    if (elapsed >= options.durationMs) break;
    const due = Math.floor((elapsed / 1000) * options.rate);
    while (launched < due) {
      const index = launched++;
      if (pending.size >= maxInFlight) {
        result.failed += 1;
        result.errors['driver: too many calls outstanding'] = (result.errors['driver: too many calls outstanding'] ?? 0) + 1;
        continue;
      }
      const call = timed(result, () => options.task(index)).finally(() => pending.delete(call));
      pending.add(call);
    }
    if (elapsed - lastTick >= 250) {
      lastTick = elapsed;
      options.onTick?.(elapsed, result);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(pending);
  result.elapsedMs = performance.now() - started;
  return result;
}
