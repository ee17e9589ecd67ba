/**
 * Work the API does after a request was answered: the ingestion log's entry, the `herald.*`
 * events that announce refused requests and expired keys. No caller waits for it, so the API's
 * shutdown does, before it closes the store and Temporal: an entry whose insert waits between
 * tries (the store restarting) is written, not cut off by the exit.
 */
export interface AfterAnswer {
  /** Keeps `work` until it settles; its own handlers report how it ended. */
  track(work: Promise<unknown>): void;
  /** Settles once everything tracked so far has, including work tracked meanwhile. */
  settled(): Promise<void>;
}

export function createAfterAnswer(): AfterAnswer {
  const pending = new Set<Promise<unknown>>();
  return {
    track(work) {
      const settled = work.then(
        () => undefined,
        () => undefined,
      );
      pending.add(settled);
      void settled.then(() => pending.delete(settled));
    },
    async settled() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
