import type { HeraldEvent } from './schemas';

/** The type of a subscription's test event (`POST /v1/subscriptions/{id}/test`). */
export const PING_EVENT_TYPE = 'herald.ping';

/**
 * Herald's own events (`herald.*`: subscription and key changes, pings, refused ingestion,
 * purges, digests; docs/api.md section 6), stored and delivered like any other event. Pure,
 * so the digest workflow builds its events with it too. The caller names the event: where an
 * emission may be retried, a deterministic id makes it start once.
 */
export function ownEvent(spec: {
  id: string;
  type: `herald.${string}`;
  data: Record<string, unknown>;
  subject?: { type: string; id: string };
  actor: string;
  occurredAt: Date;
  /** When Herald took the change in, if later than it happened (default: `occurredAt`). */
  receivedAt?: Date;
}): HeraldEvent {
  return {
    id: spec.id,
    type: spec.type,
    data: spec.data,
    ...(spec.subject && { subject: spec.subject }),
    actor: spec.actor,
    source: 'herald',
    occurredAt: spec.occurredAt.toISOString(),
    receivedAt: (spec.receivedAt ?? spec.occurredAt).toISOString(),
  };
}
