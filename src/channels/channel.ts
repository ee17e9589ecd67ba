import type { Agent } from 'undici';
import type { DigestData } from '../domain/digest';
import type { AttemptOutcome } from '../domain/outcome';
import type { HeraldEvent, PreviewResult, SubscriptionCreate } from '../domain/schemas';
import type { SecretBox } from '../security/secret-box';
import type { AttemptDoc, AttemptedDelivery, SubscriptionDoc, SubscriptionTarget } from '../store';
import type { BrokerPool } from './brokers/pool';
import type { Mailer } from './smtp-sender';

/**
 * The seam every delivery channel implements (src/channels/webhook.ts, email.ts, brokers/): how its
 * target is stored and shown, what it would send, and one attempt's send. Adding a channel is
 * a module implementing this, its target type (src/store/index.ts) and fields
 * (src/domain/channels.ts), and its line in src/channels/index.ts.
 */
export interface Channel<T extends SubscriptionTarget> {
  /** The target of a validated create request, its credentials sealed. */
  targetOf(input: SubscriptionCreate, box: SecretBox): T;
  /** A target field known to be refused before anything is stored (a 400 on `path`), or null. */
  refusal(fields: Record<string, unknown>, allowPrivateTargets: boolean): { path: string; message: string } | null;
  /** What the API shows of the target: credentials redacted. */
  view(target: T): Record<string, unknown>;
  /** What a subscription would be sent for this content, without sending anything. */
  preview(sub: SubscriptionWith<T>, content: MessageContent): Omit<PreviewResult, 'channel'>;
  /** One attempt: the request as the attempt audit records it, and how to send it. */
  prepare(sub: SubscriptionWith<T>, attempt: AttemptContext): PreparedAttempt;
}

export type SubscriptionWith<T extends SubscriptionTarget> = SubscriptionDoc & T;

/** A delivery's event and, for a digest, the events it collected (in the order they arrived) and its window. */
export interface MessageContent {
  event: HeraldEvent;
  collected: { events: HeraldEvent[]; window: DigestData['window'] } | null;
}

/** What the worker gives a channel to send with. */
export interface Transports {
  dispatcher: Agent;
  allowPrivateTargets: boolean;
  /** The email channel's SMTP transport; absent when `HERALD_SMTP_URL` is not set. */
  mailer?: Mailer;
  /** Opens the subscriptions' sealed secrets and headers. */
  secretBox: SecretBox;
  /** The broker channels' connections, one per target URL (src/channels/brokers/pool.ts). */
  brokers: BrokerPool;
}

export interface AttemptContext {
  delivery: AttemptedDelivery;
  content: MessageContent;
  startedAt: Date;
  /** Aborts the send when the attempt is cancelled. */
  signal: AbortSignal;
  transports: Transports;
}

export interface PreparedAttempt {
  request: AttemptDoc['request'];
  send(): Promise<SentAttempt>;
}

export interface SentAttempt {
  outcome: AttemptOutcome;
  /** The HTTP status or SMTP reply code; null when none came, and for a broker. */
  status: number | null;
  response: AttemptDoc['response'];
}
