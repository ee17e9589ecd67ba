/**
 * Work the API does after a request was answered: the ingestion log's entry, the `herald.*`
 * events that announce refused requests and expired keys. No caller waits for it, so the API's
 * shutdown does, before it closes the store and Temporal: an entry whose insert waits between
 * tries (the store restarting) is written, not cut off by the exit.
 */
export interface AfterAnswer {
  /** Keeps `work` until it settles; its own handlers report how it ended. */
  track(work: Promise<unknown>): void;
  /** Runs `start` when the API stops: work that would otherwise wait for a timer that the exit cancels. */
  onDrain(start: () => void): void;
  /** Starts the `onDrain` work, then settles once everything tracked has, including work tracked meanwhile. */
  drain(): Promise<void>;
}

export function createAfterAnswer(): AfterAnswer {
  const pending = new Set<Promise<unknown>>();
  const atDrain: Array<() => void> = [];
  const track = (work: Promise<unknown>) => {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    pending.add(settled);
    void settled.then(() => pending.delete(settled));
  };
  return {
    track,
    onDrain(start) {
      atDrain.push(start);
    },
    async drain() {
      for (const start of atDrain) start();
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
