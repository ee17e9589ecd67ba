import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * The receiver `make bench` and `make chaos` deliver to: a plain Node HTTP server on loopback
 * that timestamps every request, counts receipts per `webhook-id`, and checks signatures with
 * the Standard Webhooks reference library (not Herald's own code) on a sample, or on every
 * request. Chaos switches its behaviour (errors, timeouts, dropped connections, slowness).
 */

export type ReceiverMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number }
  /** Reads the request and never answers: the sender's timeout ends it. */
  | { kind: 'hang' }
  /** Destroys the connection without an answer. */
  | { kind: 'close' }
  | { kind: 'slow'; delayMs: number };

export interface Receipt {
  path: string;
  messageId: string;
  eventId: string;
  /** `data.run` of the event, so scenarios sharing a receiver can be told apart. */
  run: string;
  sentAt: number;
  receivedAt: number;
}

/** The fields of a delivered event that the bench and chaos runs send and time. */
interface BenchEvent {
  id?: string;
  data?: { run?: string; sentAt?: number };
}

export interface ReceiverOptions {
  secret: string;
  /** Verify one request in this many (1 = every request). */
  verifyEvery: number;
}

export class BenchReceiver {
  /** Receipts answered 2xx, in arrival order. */
  readonly receipts: Receipt[] = [];
  /** How many times each webhook-id arrived (answered or not). */
  readonly arrivals = new Map<string, number>();
  readonly counts = { requests: 0, verified: 0, badSignatures: 0, faulted: 0 };
  /** Receipts per run tag, so waiting on a run does not rescan every receipt. */
  readonly perRun = new Map<string, number>();
  mode: ReceiverMode = { kind: 'ok' };
  private server!: http.Server;
  private readonly webhook: Webhook;
  private waiters: Array<{ predicate: () => boolean; resolve: () => void }> = [];
  url = '';

  constructor(private readonly options: ReceiverOptions) {
    this.webhook = new Webhook(options.secret);
  }

  async start(): Promise<void> {
    this.server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = Date.now();
      this.counts.requests += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      const messageId = String(req.headers['webhook-id'] ?? '');
      this.arrivals.set(messageId, (this.arrivals.get(messageId) ?? 0) + 1);
      if (this.counts.requests % this.options.verifyEvery === 0) {
        try {
          this.webhook.verify(body, req.headers as Record<string, string>);
          this.counts.verified += 1;
        } catch {
          this.counts.badSignatures += 1;
        }
      }
      const mode = this.mode;
      if (mode.kind !== 'ok' && mode.kind !== 'slow') {
        this.counts.faulted += 1;
        if (mode.kind === 'status') res.writeHead(mode.status).end('bench receiver fault');
        else if (mode.kind === 'close') req.socket.destroy();
        // 'hang': never answer; the sender times out and closes the connection.
        return;
      }
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(200).end('ok');
        let parsed: BenchEvent = {};
        try {
          parsed = JSON.parse(body) as BenchEvent;
        } catch {
          // counted above; a body that is not JSON has no timing to record
        }
        const run = parsed.data?.run ?? '';
        this.receipts.push({
          path: req.url ?? '/',
          messageId,
          eventId: parsed.id ?? '',
          run,
          sentAt: parsed.data?.sentAt ?? 0,
          receivedAt,
        });
        this.perRun.set(run, (this.perRun.get(run) ?? 0) + 1);
        this.notify();
      };
      if (mode.kind === 'slow') setTimeout(answer, mode.delayMs);
      else answer();
    });
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when `predicate` holds after a receipt, or rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }

  received(run: string): number {
    return this.perRun.get(run) ?? 0;
  }

  receiptsOf(run: string): Receipt[] {
    return this.receipts.filter((r) => r.run === run);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
