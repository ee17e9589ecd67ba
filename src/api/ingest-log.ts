import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { newIngestLogId } from '../domain/ids';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { ingestLogWriter } from '../store/ingest-log';
import type { AfterAnswer } from './after-answer';
import { announce, type AnnounceDeps } from './announce';
import type { Principal } from './auth';
import { ownEvent } from '../domain/own-events';

/**
 * The ingestion log: every `POST /v1/events` but those refused with 401. A refused one (4xx,
 * 5xx) is kept with what was sent and what was answered, and the key's team hears of refusals
 * through a `herald.ingest.rejected` event at most once a minute; an accepted one with the ids
 * of its events (whose audit holds what was sent), so the portal's Ingestion page shows both.
 */

export const MAX_LOGGED_BODY = 16 * 1024;

interface WithRawBody extends IncomingMessage {
  rawBody?: Buffer;
}

/**
 * `express.json`'s `verify` hook: keeps the body as received, for the log, and refuses one that
 * says it is UTF-8 (JSON's default) and is not: the parser would replace each bad byte with
 * U+FFFD and store what was never sent. Its status travels with the error (body-parser's own
 * for a refusal here is 403).
 */
export function keepRawBody(req: IncomingMessage, _res: unknown, body: Buffer): void {
  (req as WithRawBody).rawBody = body;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase() ?? 'utf-8';
  if ((charset === 'utf-8' || charset === 'utf8') && !isUtf8(body)) {
    throw Object.assign(new Error('The request body is not valid UTF-8.'), { status: 400, type: 'encoding.invalid' });
  }
}

interface KeyAlerts {
  tenant: string;
  count: number;
  since: Date;
  latest: { status: number; problem: unknown };
}

export interface RejectionAlerts {
  refused(principal: Principal, status: number, problem: unknown, at: Date): void;
}

/**
 * Per key: the first refusal is announced at once; later ones are counted and announced
 * together when the minute is up, so a burst of 100 bad requests makes two events, not 100.
 * The counts live in this API process; several processes each announce their own, and one that
 * stops announces what it counted so far.
 */
export function createRejectionAlerts(deps: AnnounceDeps & { afterAnswer: AfterAnswer }, intervalMs = 60_000): RejectionAlerts {
  const waiting = new Map<string, KeyAlerts>();

  const emit = (keyId: string, alerts: KeyAlerts, at: Date) => {
    const event = ownEvent({
      id: `herald:ingest_rejected:${keyId}:${at.getTime()}`,
      type: 'herald.ingest.rejected',
      data: { keyId, count: alerts.count, since: alerts.since.toISOString(), latest: alerts.latest },
      subject: { type: 'api_key', id: keyId },
      actor: `key:${keyId}`,
      occurredAt: at,
    });
    deps.afterAnswer.track(announce(deps, alerts.tenant, event));
  };

  /** Announces the refusals counted so far and starts counting again from zero. */
  const announceCounted = (keyId: string, alerts: KeyAlerts) => {
    emit(keyId, alerts, new Date());
    waiting.set(keyId, { ...alerts, count: 0, since: new Date() });
  };

  const closeMinute = (keyId: string) => {
    const alerts = waiting.get(keyId)!;
    if (alerts.count === 0) {
      waiting.delete(keyId);
      return;
    }
    announceCounted(keyId, alerts);
    setTimeout(() => closeMinute(keyId), intervalMs).unref();
  };
  // The minute's timers do not hold the process: at shutdown the counts go out now (and a timer
  // firing later finds nothing counted).
  deps.afterAnswer.onDrain(() => {
    for (const [keyId, alerts] of waiting) if (alerts.count > 0) announceCounted(keyId, alerts);
  });

  return {
    refused(principal, status, problem, at) {
      const alerts = waiting.get(principal.keyId);
      if (alerts) {
        alerts.count++;
        alerts.latest = { status, problem };
        return;
      }
      emit(principal.keyId, { tenant: principal.tenant, count: 1, since: at, latest: { status, problem } }, at);
      waiting.set(principal.keyId, { tenant: principal.tenant, count: 0, since: at, latest: { status, problem } });
      setTimeout(() => closeMinute(principal.keyId), intervalMs).unref();
    },
  };
}

/** The events an answer accepted: the one event's id, or those of a batch's items without an error (also in a 503). */
export function acceptedIds(answer: unknown): string[] {
  if (typeof answer !== 'object' || answer === null) return [];
  const results = (answer as { results?: unknown }).results;
  const items = Array.isArray(results) ? results : [answer];
  return items.flatMap((r) => {
    const item = r as { id?: unknown; error?: unknown; status?: unknown };
    return typeof item.id === 'string' && item.error === undefined && item.status === undefined ? [item.id] : [];
  });
}

/** Mounted on the ingestion route before the body is parsed, so malformed and oversized bodies are logged too. */
export function ingestLog(deps: { store: Store; logger: Logger; alerts: RejectionAlerts; afterAnswer: AfterAnswer }): RequestHandler {
  // One insert command for the requests that finish while the previous is in flight: an
  // accepted request adds no command of its own to a busy API.
  const record = ingestLogWriter(deps.store);
  return (req, res, next) => {
    let logged = false;
    const send = res.send.bind(res);
    // Logged when the answer is decided, not when it is flushed: a client gone by then (a long
    // batch, a timeout on its side) never sees 'finish', and its request, accepted or not, is
    // still one the log must hold.
    res.send = (body?: unknown) => {
      if (!logged) {
        logged = true;
        log(typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : JSON.stringify(body));
      }
      return send(body);
    };
    const log = (answer: string) => {
      const principal = res.locals.principal as Principal | undefined;
      // A portal session never ingests (its gate answers 403): its visitor's text, up to 16 KB a
      // request, and the refusal alerts it would raise are not the tenant's producers' to read.
      if (res.statusCode === 401 || !principal || principal.portal) return;
      const raw = (req as WithRawBody).rawBody;
      const bodyBytes = raw?.length ?? Number(req.get('content-length') ?? 0);
      let problem: unknown = answer;
      try {
        problem = JSON.parse(answer);
      } catch {
        // not JSON: kept as text
      }
      const at = new Date();
      const eventIds = acceptedIds(problem);
      const accepted = res.statusCode < 400;
      if (!accepted) deps.alerts.refused(principal, res.statusCode, problem, at);
      const entryId = newIngestLogId();
      const written = record({
        _id: entryId,
        tenant: principal.tenant,
        keyId: principal.keyId,
        at,
        method: req.method,
        route: req.originalUrl.split('?')[0],
        status: res.statusCode,
        bodyBytes,
        ...(accepted
          ? { problem: '', body: '', truncated: false }
          : {
              problem: answer,
              // PostgreSQL (under FerretDB) refuses NUL in text: shown as U+FFFD, as attempt bodies are.
              body: raw ? raw.subarray(0, MAX_LOGGED_BODY).toString('utf8').replaceAll('\u0000', '\ufffd') : '',
              truncated: bodyBytes > MAX_LOGGED_BODY || (!raw && bodyBytes > 0),
            }),
        ...(eventIds.length > 0 && { eventIds }),
      }).catch((err: unknown) =>
        deps.logger.warn(
          { err, entryId, tenant: principal.tenant, keyId: principal.keyId, status: res.statusCode },
          `could not record ${accepted ? 'an accepted' : 'a refused'} ingestion request`,
        ),
      );
      deps.afterAnswer.track(written);
    };
    next();
  };
}
