/**
 * One store read by key shared by the callers that ask for the same key at about the same
 * time: the attempts of one event ask for its purge mark, and every attempt and event of a
 * tenant for its subscriptions version, within milliseconds of each other; so do the API's
 * requests with one key for that key, and a tenant's requests for its counters (`tenant_versions`).
 *
 * Each caller gets the answer of a read that started after it asked, never of one already in
 * flight: a caller that wrote before asking (an attempt's claim, before it looks for its
 * event's purge mark) is answered by a read at least as new as its write, exactly as if it had
 * read alone. So callers that ask while a read is in flight form the next one, which starts
 * when that read settles. A read stuck on its connection would hold all of them up: when it
 * has not settled after `maxWaitMs`, the next read starts beside it. At most two reads of a
 * key are in flight, so a slow store gets one read more per key, not one per `maxWaitMs`.
 */
export function sharedRead<V>(read: (key: string) => Promise<V>, maxWaitMs = 100): (key: string) => Promise<V> {
  const reads = new Map<string, { inFlight: Promise<V> | null; running: number; next: Promise<V> | null }>();

  return function readShared(key: string): Promise<V> {
    let entry = reads.get(key);
    if (!entry) {
      entry = { inFlight: null, running: 0, next: null };
      reads.set(key, entry);
    }
    if (entry.next) return entry.next;
    const slot = entry;
    const start = (): Promise<V> => {
      slot.next = null;
      const run = read(key);
      slot.inFlight = run;
      slot.running++;
      const settle = () => {
        slot.running--;
        if (slot.inFlight === run) slot.inFlight = null;
        if (slot.running === 0 && !slot.next && reads.get(key) === slot) reads.delete(key); // kept while a stuck read runs: it counts
      };
      run.then(settle, settle);
      return run;
    };
    if (!slot.inFlight) return start();
    // Started once the newest read in flight settled, whatever its outcome (its answer may
    // predate this call), or once it has taken maxWaitMs while it is the only one.
    const newest = slot.inFlight;
    const bypass = slot.running < 2;
    slot.next = new Promise<void>((resolve) => {
      const timer = bypass ? setTimeout(resolve, maxWaitMs) : undefined;
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      newest.then(done, done);
    }).then(start);
    return slot.next;
  };
}
