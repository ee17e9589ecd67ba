import { BROKER_TARGET_SCHEMAS, hasCredentials, redactUrl } from '../../domain/broker-targets';
import type { BrokerChannel } from '../../domain/channels';
import type { AttemptOutcome } from '../../domain/outcome';
import { digestPayload, webhookPayload } from '../../domain/messages';
import { signatureHeader } from '../../domain/signing';
import { classifyUrlHost } from '../../domain/targets';
import type { BrokerTarget } from '../../store';
import { signingSecrets } from '../../store/subscriptions';
import type { Channel, MessageContent, SentAttempt } from '../channel';
import { RESPONSE_BODY_LIMIT } from '../http-sender';
import { dialableUrl } from './guard';
import type { BrokerPool, PooledConnection } from './pool';

/**
 * What the four broker channels share (docs/api.md section 7): the target sealed and shown
 * like a webhook's secrets, the webhook's body and signature (section 4) so a consumer
 * verifies a message as a webhook receiver does, the private-target guard on the broker's
 * host, and one attempt = one publish whose acknowledgement or refusal the audit records as
 * `{status: null, body}`. Each broker module (./rabbitmq.ts, …) brings only its publish.
 */

/** One message as every broker carries it. */
export interface BrokerMessage {
  /** The delivery's `webhook-id`: the same on every attempt, so a consumer or the broker dedupes on it. */
  id: string;
  /** The event's type (`herald-event-type`; the default AMQP routing key). */
  type: string;
  /** `webhook-timestamp`, in seconds. */
  timestamp: number;
  /** The webhook body, as signed. */
  body: string;
  /** `webhook-signature`. */
  signature: string;
}

export interface PublishRequest<T> {
  pool: BrokerPool;
  /** The URL with its credentials, as the pool knows it. */
  url: string;
  /** The URL to dial: `url`, or the same at the address the guard checked. */
  dialUrl: string;
  target: T;
  message: BrokerMessage;
  timeoutMs: number;
  signal: AbortSignal;
}

/** A broker module: where its messages go (for the audit) and how one is published. */
export interface BrokerPublisher<T> {
  kind: BrokerChannel;
  destination(target: T, message: Pick<BrokerMessage, 'type'>): Record<string, string>;
  /** Resolves to the broker's acknowledgement, as text; rejects with the broker's reason for refusing the message. */
  publish(request: PublishRequest<T>): Promise<string>;
}

/** The webhook headers of a message, by name (section 4). */
export function webhookHeaders(message: BrokerMessage): Record<string, string> {
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': message.signature,
  };
}

/** A broker that did not answer within the attempt's deadline. */
export class NoAnswerError extends Error {}

/** A message the broker can never take, whatever the attempt: the delivery fails at once instead of running its schedule. */
export class UnpublishableError extends Error {}

/** Rejects when `ms` pass or `signal` aborts first: a broker that accepts the connection but never answers is a failed attempt. */
export function withDeadline<T>(work: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(`${what}: no answer within ${ms} ms`)), ms);
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('attempt aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, deadline]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  });
}

/**
 * The broker's answer to `work` on a pooled connection, within the attempt's deadline. A
 * connection that did not answer in time may be half dead (a broker gone without a FIN), so
 * it is dropped from the pool and the next attempt opens another.
 */
export async function answerOn<T>(
  request: Pick<PublishRequest<unknown>, 'pool' | 'url' | 'timeoutMs' | 'signal'>,
  kind: BrokerChannel,
  connection: PooledConnection,
  work: Promise<T>,
  what: string,
): Promise<T> {
  try {
    return await withDeadline(work, request.timeoutMs, request.signal, what);
  } catch (err) {
    if (err instanceof NoAnswerError) request.pool.discard(kind, request.url, connection);
    throw err;
  }
}

function payload(content: MessageContent): unknown {
  return content.collected ? digestPayload(content.collected.events) : webhookPayload(content.event);
}

export function brokerChannel<T extends BrokerTarget>(kind: T['channel'], publisher: BrokerPublisher<T['target']>): Channel<T> {
  return {
    targetOf(input, box) {
      const { url, ...rest } = BROKER_TARGET_SCHEMAS[kind].parse(input.target);
      const stored = { ...rest, url: hasCredentials(url) ? redactUrl(url) : url, ...(hasCredentials(url) && { sealedUrl: box.seal(url) }) };
      return { channel: kind, target: stored } as T;
    },

    // A literal address in a refused range, or a name that always means this machine, is known
    // bad already; other names are resolved and checked before each connection (./guard.ts).
    refusal(fields, allowPrivateTargets) {
      const url = (fields.target as { url?: unknown } | undefined)?.url;
      if (allowPrivateTargets || typeof url !== 'string' || !URL.canParse(url)) return null;
      const verdict = classifyUrlHost(new URL(url));
      return verdict.allowed ? null : { path: 'target.url', message: `target refused: ${verdict.reason}` };
    },

    view(sub) {
      const { sealedUrl: _sealed, ...shown } = sub.target;
      return { target: shown };
    },

    preview(_sub, content) {
      return { body: payload(content) };
    },

    prepare(sub, { delivery, content, startedAt, signal, transports }) {
      const timestamp = Math.floor(startedAt.getTime() / 1000);
      const body = JSON.stringify(payload(content));
      const message: BrokerMessage = {
        id: delivery.messageId,
        type: content.event.type,
        timestamp,
        body,
        signature: signatureHeader(signingSecrets(sub, startedAt, transports.secretBox), delivery.messageId, timestamp, body),
      };
      const target = (sub as T).target;
      const url = target.sealedUrl ? transports.secretBox.open(target.sealedUrl) : target.url;
      return {
        request: {
          url: target.url,
          headers: { ...webhookHeaders(message), 'herald-event-type': message.type },
          destination: publisher.destination(target, message),
        },
        async send(): Promise<SentAttempt> {
          try {
            const dialUrl = await dialableUrl(url, transports.allowPrivateTargets);
            const ack = await publisher.publish({
              pool: transports.brokers,
              url,
              dialUrl,
              target,
              message,
              timeoutMs: sub.timeoutMs,
              signal,
            });
            return { outcome: { kind: 'succeeded' }, status: null, response: { status: null, body: ack.slice(0, RESPONSE_BODY_LIMIT) } };
          } catch (err) {
            // An aborted attempt (cancelled, timed out by Temporal, the worker stopping) is the activity's to handle.
            if (signal.aborted) throw err;
            const reason = refusalReason(err, url);
            const outcome: AttemptOutcome =
              err instanceof UnpublishableError ? { kind: 'permanent', reason, disableSubscription: false } : { kind: 'retryable', reason };
            return { outcome, status: null, response: { status: null, body: reason } };
          }
        },
      };
    },
  };
}

/** The broker's reason as the audit shows it: never the credentials a client library may quote in its error. */
function refusalReason(err: unknown, url: string): string {
  let text = err instanceof Error ? err.message || err.name : String(err);
  const { password, username } = new URL(url);
  for (const secret of [password, username]) if (secret.length >= 3) text = text.split(decodeURIComponent(secret)).join('***');
  return text.slice(0, RESPONSE_BODY_LIMIT);
}
