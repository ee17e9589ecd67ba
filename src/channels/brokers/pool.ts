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
}

export function createBrokerPool(): BrokerPool {
  const entries = new Map<string, Entry>();
  let closed = false;

  function forget(key: string, entry: Entry) {
    if (entries.get(key) === entry) entries.delete(key);
  }

  return {
    connection<C extends PooledConnection>(kind: BrokerChannel, url: string, opener: Opener<C>): Promise<C> {
      if (closed) return Promise.reject(new Error('the worker is stopping: broker connections are closed'));
      const key = `${kind} ${url}`;
      const existing = entries.get(key);
      if (existing) return existing.opening as Promise<C>;
      const entry: Entry = { opening: opener(() => forget(key, entry)) };
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
      const all = [...entries.values()];
      entries.clear();
      await Promise.allSettled(all.map(async (entry) => (await entry.opening).close()));
    },
  };
}
