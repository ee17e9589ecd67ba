import { workflowInfo } from '@temporalio/workflow';

/** Past this many history events a long-lived run hands its state to a fresh run. */
export const HISTORY_LIMIT = 10_000;

/** True once the run should continue as new: Temporal suggests it, or the history passed `limit`. */
export function historyIsLong(limit: number = HISTORY_LIMIT): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > limit;
}
