import v8 from 'node:v8';

const GROWTH_PERCENT = 50;

/**
 * V8 lets the old generation grow to up to four times what survived the last full GC before
 * it collects again, when the machine has plenty of memory. Herald's processes keep little
 * alive but allocate fast under load, so that headroom, not live data, is most of their RSS:
 * - the API keeps about 35 MB alive, yet a 100,000-event export grew it by 100-145 MB of
 *   garbage waiting for collection; about 25 MB with the growth capped at 50%;
 * - a worker making 10,000 first attempts peaked at 1,287 MB, 674 MB capped (and it settles
 *   at about 500 MB either way once they all wait on backoff).
 * The price is more full GCs, each 5-25 ms at these heap sizes; both got faster, not slower,
 * since a smaller heap is quicker to walk.
 *
 * A heap setting given on the command line or in NODE_OPTIONS wins: the operator chose it.
 */
export function limitHeapGrowth(): void {
  if (heapSettingGiven(process.execArgv, process.env.NODE_OPTIONS)) return;
  v8.setFlagsFromString(`--heap-growing-percent=${GROWTH_PERCENT}`);
}

const HEAP_SETTINGS = /^--(max-old-space-size|max-heap-size|heap-growing-percent)(=|$)/;

export function heapSettingGiven(execArgv: readonly string[], nodeOptions = ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => HEAP_SETTINGS.test(flag.replace(/_/g, '-')));
}
