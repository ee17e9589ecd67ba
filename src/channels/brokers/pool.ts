import type { BrokerChannel } from '../../domain/channels';

/**
 * The worker's broker connections: one per broker kind and key (the target URL; AMQP adds its
 * exchange), opened by the first
 * attempt that needs it and shared by every attempt after it, so a busy subscription does not
 * pay a connect (and, for AMQP, a channel open) per message. A connection that breaks (the
 * broker stopped, a channel closed by the broker) is forgotten by the connector that notices,
 * and the next attempt opens a new one. The worker closes them all when it stops.
 */

export interface PooledConnection {
  close(): Promise<void>;
}

/** Opens a connection; `broken` is called once if it stops being usable, so the pool forgets it. */
export type Opener<C extends PooledConnection> = (broken: () => void) => Promise<C>;

export interface BrokerPool {
  connection<C extends PooledConnection>(kind: BrokerChannel, url: string, open: Opener<C>): Promise<C>;
  /** Drops a connection an attempt found unusable (closing it), so the next attempt opens another. */
  discard(kind: BrokerChannel, url: string, connection: PooledConnection): void;
  /** How many connections are open or opening: one per kind and URL in use. */
  size(): number;
  close(): Promise<void>;
}

interface Entry {
  opening: Promise<PooledConnection>;
  connection?: PooledConnection;
  /** When an attempt last took it (ms since the epoch). */
  usedAt: number;
}

/**
 * How long a connection no attempt took stays open: a subscription deleted, or its target
 * replaced (a new password), leaves its connection unused, and it is closed after this. An
 * attempt takes its connection when it starts and lasts at most a minute or two.
 */
const IDLE_CLOSE_MS = 5 * 60_000;

export function createBrokerPool(idleCloseMs = IDLE_CLOSE_MS): BrokerPool {
  const entries = new Map<string, Entry>();
  let closed = false;

  function forget(key: string, entry: Entry) {
    if (entries.get(key) === entry) entries.delete(key);
  }

  const sweep = setInterval(() => {
    const idleSince = Date.now() - idleCloseMs;
    for (const [key, entry] of entries) {
      if (entry.connection && entry.usedAt < idleSince) {
        forget(key, entry);
        entry.connection.close().catch(() => undefined);
      }
    }
  }, idleCloseMs / 2);
  sweep.unref();

  return {
    connection<C extends PooledConnection>(kind: BrokerChannel, url: string, opener: Opener<C>): Promise<C> {
      if (closed) return Promise.reject(new Error('the worker is stopping: broker connections are closed'));
      const key = `${kind} ${url}`;
      const existing = entries.get(key);
      if (existing) {
        existing.usedAt = Date.now();
        return existing.opening as Promise<C>;
      }
      const entry: Entry = { opening: opener(() => forget(key, entry)), usedAt: Date.now() };
      entries.set(key, entry);
      entry.opening.then(
        (connection) => (entry.connection = connection),
        () => forget(key, entry), // a failed connect is not kept: the next attempt tries again
      );
      return entry.opening as Promise<C>;
    },

    discard(kind, url, connection) {
      const key = `${kind} ${url}`;
      const entry = entries.get(key);
      if (entry?.connection === connection) forget(key, entry);
      connection.close().catch(() => undefined);
    },

    size: () => entries.size,

    async close() {
      closed = true;
      clearInterval(sweep);
      const all = [...entries.values()];
      entries.clear();
      await Promise.allSettled(all.map(async (entry) => (await entry.opening).close()));
    },
  };
}
