import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookVerificationError } from '../domain/signing';
import { rejectionStatus, verifyWebhook, type WebhookBody } from '../receiver';
import { usableSecrets } from '../receiver/verify';

/**
 * `herald listen`: a loopback receiver for development. It verifies each delivery, prints it,
 * and, with a forward URL, passes it on unchanged (body and webhook-* headers) and answers
 * Herald with the forward target's status, so a failing local app is retried as usual.
 */

export interface ListenOptions {
  secrets: string[];
  host: string;
  port: number;
  forward?: string;
  tolerance?: number;
}

export interface Received {
  webhookId: string;
  body: WebhookBody;
  forwarded?: number;
}

const FORWARDED_HEADERS = ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
}

async function forwardTo(url: string, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; text: string }> {
  const headers = Object.fromEntries(FORWARDED_HEADERS.flatMap((name) => (req.headers[name] ? [[name, String(req.headers[name])]] : [])));
  const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  return { status: res.status, text: await res.text() };
}

export async function listen(
  options: ListenOptions,
  onReceived: (received: Received) => void,
  onRejected: (reason: string) => void,
): Promise<http.Server> {
  usableSecrets(options.secrets); // `--secret "$UNSET"` fails here, before it listens
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      let payload: WebhookBody;
      try {
        payload = verifyWebhook(options.secrets, body, req.headers, {
          ...(options.tolerance !== undefined && { tolerance: options.tolerance }),
        });
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        onRejected(err.message);
        res.writeHead(rejectionStatus(err)).end(err.message);
        return;
      }
      const webhookId = String(req.headers['webhook-id']);
      if (!options.forward) {
        onReceived({ webhookId, body: payload });
        res.writeHead(204).end();
        return;
      }
      try {
        const answer = await forwardTo(options.forward, req, body);
        onReceived({ webhookId, body: payload, forwarded: answer.status });
        res.writeHead(answer.status).end(answer.text);
      } catch (err) {
        onRejected(`forward to ${options.forward} failed: ${(err as Error).message}`);
        res.writeHead(502).end('forward failed');
      }
    })().catch((err: unknown) => {
      onRejected(`error: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, options.host, resolve));
  return server;
}

export const listeningUrl = (server: http.Server) => {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
};
