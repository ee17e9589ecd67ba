import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { SmtpReply } from '../domain/outcome';
import type { RenderedEmail } from '../domain/templates';

/**
 * The email channel's sender: one pooled SMTP transport per worker, configured entirely by
 * `HERALD_SMTP_URL` (`smtp://` upgrades with STARTTLS when the server offers it, `smtps://`
 * is TLS from the start, `user:password@` authenticates), answering each send as an SMTP reply.
 */

export interface EmailMessage extends RenderedEmail {
  to: string[];
  /** Without angle brackets; the same on every attempt of a delivery, so a retried send can be recognised. */
  messageId: string;
  headers: Record<string, string>;
}

export interface Mailer {
  /** The server as the attempt audit shows it: scheme, host and port, never the credentials. */
  endpoint: string;
  /** The domain of Message-IDs: the sender address's. */
  domain: string;
  send(message: EmailMessage): Promise<SmtpReply & { rejected: string[] }>;
  close(): void;
}

type SendError = Error & { responseCode?: number; response?: string; code?: string };

/** nodemailer's codes of a refusal of this message (MAIL FROM, RCPT TO or DATA), as opposed to one of the connection. */
const MESSAGE_REFUSALS = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * What a failed send answers. Only the relay's reply to this message decides its outcome;
 * a refused login, greeting or TLS upgrade is the operator's configuration or the relay's
 * state, so it is reported without a code and the email waits on its schedule for a fix.
 */
export function smtpReplyOf(err: SendError): SmtpReply {
  if (err.responseCode && err.code && MESSAGE_REFUSALS.has(err.code))
    return { code: err.responseCode, message: err.response ?? err.message };
  return { code: null, message: err.code ? `${err.code}: ${err.message}` : err.message };
}

/** Connections kept open to the relay per worker; each sends one message at a time. */
const MAX_CONNECTIONS = 5;

export function createMailer(url: string, from: string): Mailer {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  const endpoint = `${parsed.protocol}//${parsed.hostname}:${parsed.port || (secure ? 465 : 587)}`;
  const options: SMTPPool.Options = {
    url,
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    // A relay that stops answering must end the attempt well inside the activity's timeout.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
  const transport = nodemailer.createTransport(options);
  return {
    endpoint,
    domain: from.replace(/^.*@/, '').replace(/>.*$/, '') || 'herald.invalid',
    async send(message) {
      try {
        const info = await transport.sendMail({
          from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId: `<${message.messageId}>`,
          headers: message.headers,
        });
        const reply = /^(\d{3})\b/.exec(info.response ?? '');
        return { code: reply ? Number(reply[1]) : 250, message: info.response ?? '', rejected: info.rejected.map(String) };
      } catch (err) {
        return { ...smtpReplyOf(err as SendError), rejected: [] };
      }
    },
    close: () => transport.close(),
  };
}
