import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP receiver on loopback that records every request and answers as told. */

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  /** Set when the sender closed the connection before the answer was sent. */
  abortedAt?: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer only after this long (a slow receiver). */
  delayMs?: number;
}

/** Decides the answer to the n-th (1-based) request on a path. */
export type Responder = (req: ReceivedRequest, n: number) => Reply;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  on(path: string, responder: Responder): void;
  received(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const responders = new Map<string, Responder>();
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const entry: ReceivedRequest = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() };
      requests.push(entry);
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const reply: Reply = responders.get(path)?.(entry, n) ?? { status: 200 };
      res.once('close', () => {
        if (!res.writableFinished) entry.abortedAt = Date.now();
      });
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers).end(reply.body ?? 'ok');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on: (path, responder) => void responders.set(path, responder),
    received: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
