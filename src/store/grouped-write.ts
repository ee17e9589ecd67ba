/**
 * Writes that many concurrent callers make to one collection, grouped into one command: while
 * a command is in flight, the writes asked for meanwhile wait and go together in the next. An
 * idle worker so writes at once, one by one (with `lingerMs`, a write that finds nothing in
 * flight waits that long for others to join it); a busy one sends one command for the attempts
 * that finished during the previous, instead of one each (every command costs the store a
 * round of its own: parsing, a transaction, an answer). A caller's promise settles when its
 * own write is acknowledged or refused, so nothing is reported done before it is durable.
 */
export function groupedWrite<I, O>(
  /** Writes the items in one command; answers each item's outcome, an Error for one refused. */
  write: (items: I[]) => Promise<Array<O | Error>>,
  /** The most items in one command. */
  maxItems = 256,
  /** How long a write that finds nothing in flight waits for others to join it. */
  lingerMs = 0,
): (item: I) => Promise<O> {
  let queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  let inFlight = false;
  let lingering = false;

  async function flush(): Promise<void> {
    inFlight = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, maxItems);
      queue = queue.slice(batch.length);
      try {
        const outcomes = await write(batch.map((b) => b.item));
        batch.forEach((b, i) => {
          const outcome = outcomes[i];
          if (outcome instanceof Error) b.reject(outcome);
          else b.resolve(outcome);
        });
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    inFlight = false;
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (inFlight || lingering) return;
      if (lingerMs <= 0) return void flush();
      lingering = true;
      setTimeout(() => {
        lingering = false;
        if (!inFlight) void flush();
      }, lingerMs);
    });
}
