import type { ErrorRequestHandler } from 'express';
import type { ApiKeyDoc, Store } from '../store';
import { markExpiryAnnounced } from '../store/api-keys';
import { emitEvent } from '../temporal/herald-events';
import type { AfterAnswer } from './after-answer';
import type { AnnounceDeps } from './announce';
import { apiKeyChangeEvent } from './change-events';
import { ProblemError } from './problem';
import { callTemporal } from './temporal-call';

/** A key presented after its `expiresAt`: 401 with a problem of type `…/key-expired`. */
export class KeyExpiredError extends ProblemError {
  constructor(readonly key: ApiKeyDoc) {
    super(401, 'Key expired', `The API key expired at ${key.expiresAt!.toISOString()}.`, undefined, { 'WWW-Authenticate': 'Bearer' });
  }
}

/**
 * `herald.api_key.expired`, emitted once per key, when the key is first presented after it
 * expired (its 401, `KeyExpiredError`, passes through here on its way to the problem handler
 * and does not wait for it). Once across concurrent requests and API processes: the event's
 * id is the key's (`herald:{keyId}:expired`), so its workflow id is too, and Temporal starts a
 * workflow id once (REJECT_DUPLICATE), whichever request asks first; the audit records an event
 * id once as well. After a start (or a refusal as duplicate), the key is marked by `_id`, so
 * later requests read the mark with the key and ask Temporal nothing. When Temporal cannot be
 * reached the mark stays unset and the next request tries again.
 */
export function announceExpiredKeys(deps: AnnounceDeps & { store: Store; afterAnswer: AfterAnswer }): ErrorRequestHandler {
  const inFlight = new Set<string>(); // one try at a time per key in this process
  return (err, _req, _res, next) => {
    next(err);
    if (!(err instanceof KeyExpiredError)) return;
    const doc = err.key;
    if (doc.expiryAnnouncedAt || inFlight.has(doc._id)) return;
    inFlight.add(doc._id);
    const event = apiKeyChangeEvent('expired', doc, 'herald', doc.expiresAt!);
    const announced = callTemporal(deps.connection, () => emitEvent(deps.temporal, deps.taskQueue, doc.tenant, event))
      .then(() => markExpiryAnnounced(deps.store, doc._id, new Date()))
      .catch((e: unknown) =>
        deps.logger.error({ err: e, keyId: doc._id }, 'could not emit herald.api_key.expired; the next request tries again'),
      )
      .finally(() => inFlight.delete(doc._id));
    deps.afterAnswer.track(announced);
  };
}
