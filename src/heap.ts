import v8 from 'node:v8';

/**
 * V8 lets the old generation grow to up to four times what survived the last full GC before
 * it collects again, when the machine has plenty of memory. The API keeps little alive (about
 * 35 MB) but allocates fast while it streams an export or takes a burst of events, so that
 * headroom, not live data, is most of its RSS: a 100,000-event export grew it by 100-145 MB
 * of garbage waiting for collection, and by about 25 MB with the growth capped at 50%.
 * The price is more full GCs, each 5-25 ms at this heap size.
 *
 * A heap setting given on the command line or in NODE_OPTIONS wins: the operator chose it.
 */
export function limitHeapGrowth(percent: number): boolean {
  if (heapSettingGiven(process.execArgv, process.env.NODE_OPTIONS)) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}

const HEAP_SETTINGS = /^--(max-old-space-size|max-heap-size|heap-growing-percent)(=|$)/;

export function heapSettingGiven(execArgv: readonly string[], nodeOptions = ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => HEAP_SETTINGS.test(flag.replace(/_/g, '-')));
}
