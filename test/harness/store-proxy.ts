import net from 'node:net';
import { freePort } from './servers';

/**
 * Forwards to the store. `dropNextInsert(c)` closes the connection carrying the next insert into
 * `c`, unforwarded; with `afterStoring`, forwarded, and closed in place of the store's answer;
 * with `times`, so for that many inserts into `c`, one after another.
 * `dropped()` counts the connections so closed.
 */
export async function storeProxy(target: URL) {
  let armed: { collection: string; afterStoring: boolean; times: number } | null = null;
  let dropped = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    let dropAnswer = false;
    client.on('data', (chunk: Buffer) => {
      // An OP_MSG insert starts its command document with the string element "insert": "<collection>".
      if (armed && chunk.includes(Buffer.from('\x02insert\x00')) && chunk.includes(Buffer.from(`${armed.collection}\x00`))) {
        const { afterStoring } = armed;
        if (--armed.times === 0) armed = null;
        if (afterStoring) {
          dropAnswer = true;
          upstream.write(chunk);
        } else {
          dropped++;
          client.destroy();
          upstream.destroy();
        }
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!dropAnswer) return void client.write(chunk);
      dropped++;
      client.destroy();
      upstream.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    dropNextInsert: (collection: string, afterStoring = false, times = 1) => void (armed = { collection, afterStoring, times }),
    dropped: () => dropped,
    /** Stops listening and cuts the connections still open, so that no client keeps it waiting. */
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

export type StoreProxy = Awaited<ReturnType<typeof storeProxy>>;
