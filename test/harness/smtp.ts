import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/**
 * A real SMTP server on loopback (the `smtp-server` package, in the test process) that the
 * worker process sends to: it keeps every message it accepts, raw and parsed, and answers
 * each recipient with the reply code a test scripts for it.
 */

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO) the server accepted for this message. */
  recipients: string[];
  /** The message as it crossed the wire: headers and body, for checks a parser would smooth over. */
  raw: string;
  parsed: ParsedMail;
  /** Whether the message came over TLS (STARTTLS or implicit), and who authenticated. */
  secure: boolean;
  user: string | null;
}

/** The reply code for the n-th (1-based) RCPT TO of this address: 250 accepts, 4xx/5xx refuse. */
export type SmtpResponder = (n: number) => number;

export interface SmtpSink {
  /** For `HERALD_SMTP_URL`; by default the server offers no STARTTLS, so the worker sends in clear on loopback. */
  url: string;
  port: number;
  messages: ReceivedMail[];
  on(recipient: string, responder: SmtpResponder): void;
  /** Messages whose envelope includes this recipient. */
  to(recipient: string): ReceivedMail[];
  close(): Promise<void>;
}

/** `port` 0 picks a free one; a given port lets a test start the server where a worker already points. */
export async function startSmtpServer(extra: SMTPServerOptions = {}, port = 0): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const responders = new Map<string, SmtpResponder>();
  const counts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // The worker's pooled connections stay open; closing waits for them this long at most.
    closeTimeout: 1000,
    ...extra,
    onRcptTo(address, _session, callback) {
      const recipient = address.address.toLowerCase();
      const n = (counts.get(recipient) ?? 0) + 1;
      counts.set(recipient, n);
      const code = responders.get(recipient)?.(n) ?? 250;
      if (code < 400) return callback();
      callback(Object.assign(new Error(`scripted refusal ${code} for ${recipient}`), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            const recipients = session.envelope.rcptTo.map((a) => a.address.toLowerCase());
            messages.push({
              recipients,
              raw,
              parsed,
              secure: session.secure,
              user: session.user === undefined ? null : String(session.user),
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${bound}`,
    port: bound,
    messages,
    on: (recipient, responder) => void responders.set(recipient.toLowerCase(), responder),
    to: (recipient) => messages.filter((m) => m.recipients.includes(recipient.toLowerCase())),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One SMTP server per test file, started before the stack (which reads its URL) and closed after. */
export function useSmtpServer(extra: SMTPServerOptions = {}): { readonly sink: SmtpSink } {
  const env = {} as { sink: SmtpSink };
  beforeAll(async () => {
    env.sink = await startSmtpServer(extra);
  });
  afterAll(async () => {
    await env.sink?.close();
  });
  return env;
}
