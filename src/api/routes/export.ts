import { Router } from 'express';
import { eventExportQuerySchema } from '../../domain/schemas';
import type { Logger } from '../../logger';
import type { EventDoc, Store } from '../../store';
import { auditOfEvents } from '../../store/deliveries';
import { eventJson, exportEvents } from '../../store/events';
import { principalOf, requireScope } from '../auth';
import { limitsOf } from '../key-limits';
import { parseOrThrow } from '../problem';
import { attemptView, deliveryView } from '../views';

/** Events read from the store per round trip: with `data` up to 256 KiB each, a batch stays under ~50 MB. */
const BATCH = 200;

/** What `write` needs of the response: a Node writable's writes, destroyed flag and events. */
interface Writable {
  readonly destroyed: boolean;
  write(chunk: string): boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Writes a chunk, waiting while the client's socket is full: memory holds one batch, whatever
 * the export's size. The waiter removes both of its listeners when either fires: a listener
 * left behind on every full socket would grow with the export (`events.once` in a race does).
 */
export async function write(res: Writable, chunk: string): Promise<void> {
  // A response destroyed (the client gone) takes no write and will not say 'close' again: a
  // wait for it would hold the handler, its store cursor and its batch for good.
  if (res.destroyed || res.write(chunk) || res.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * `GET /v1/events/export`: the tenant's audit as NDJSON, oldest first, one event per line with
 * its deliveries and attempts when asked. Streams from one store cursor with backpressure.
 */
export function exportRouter(deps: { store: Store; logger: Logger }): Router {
  const router = Router();
  router.get('/export', requireScope('events:read'), async (req, res) => {
    const { tenant } = principalOf(res);
    const { include = [], ...filter } = parseOrThrow(eventExportQuerySchema, req.query);
    const wanted = { deliveries: include.includes('deliveries'), attempts: include.includes('attempts') };
    const cursor = exportEvents(deps.store, tenant, filter, BATCH, limitsOf(res));
    res.status(200).type('application/x-ndjson').set('Content-Disposition', 'attachment; filename="herald-events.ndjson"');

    const flush = async (batch: EventDoc[]) => {
      const audit =
        wanted.deliveries || wanted.attempts
          ? await auditOfEvents(
              deps.store,
              tenant,
              batch.map((d) => d.id),
              wanted,
            )
          : null;
      for (const doc of batch) {
        const line = eventJson(doc, {
          status: doc.status,
          ...(wanted.deliveries && { deliveries: (audit!.deliveries.get(doc.id) ?? []).map(deliveryView) }),
          ...(wanted.attempts && { attempts: (audit!.attempts.get(doc.id) ?? []).map(attemptView) }),
        });
        if (res.destroyed) return;
        await write(res, line + '\n');
      }
    };

    let exported = 0;
    try {
      let batch: EventDoc[] = [];
      for await (const doc of cursor) {
        if (res.destroyed) break; // the client went away
        batch.push(doc);
        if (batch.length === BATCH) {
          await flush(batch);
          exported += batch.length;
          batch = [];
        }
      }
      if (batch.length && !res.destroyed) {
        await flush(batch);
        exported += batch.length;
      }
      res.end();
    } catch (err) {
      // Before the first line the status can still say it (the problem handler answers);
      // after it, cutting the stream short is how the client learns it is incomplete.
      if (!res.headersSent) {
        res.removeHeader('Content-Disposition'); // what answers is a problem, not a file to save
        throw err;
      }
      deps.logger.error({ err, tenant, exported }, 'event export failed');
      res.destroy(err as Error);
    } finally {
      await cursor.close();
    }
  });
  return router;
}
