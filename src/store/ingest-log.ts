import { setTimeout as sleep } from 'node:timers/promises';
import type { IngestLogQuery } from '../domain/schemas';
import type { Filter } from 'mongodb';
import { groupedWrite } from './grouped-write';
import { isDuplicateKeyError, writeErrorsByIndex, type IngestLogDoc, type Store } from './index';
import { keysetPage, type Page } from './paging';

/** The ingestion log: ingestion requests, accepted and refused, kept `HERALD_INGEST_LOG_DAYS`. */

/**
 * Waits before each try again of an insert that failed as a whole, with no answer per entry
 * (its connection lost, the store restarting, or any other error of the command): an entry is
 * written after its request was answered, so no caller is left to retry it, and FerretDB and a
 * standalone MongoDB take no retryable writes from the driver. An error that repeats holds the
 * log's next entries for these ~5 s and the tries themselves (each up to the driver's 5 s to find
 * an unreachable store: ~25 s in all), then fails them; until then they are late, not lost.
 */
export const INGEST_LOG_RETRY_DELAYS_MS = [250, 1_000, 4_000];

/**
 * How long an entry that finds no insert in flight waits for others to join it. Entries are
 * written after their requests were answered, so nobody waits for them: at 8 single-event
 * requests a second about three entries share an insert instead of one each. The log is that much
 * later to show a request, and an API process killed outright loses the entries of its last
 * quarter second (one stopped by a signal writes them first: `AfterAnswer`).
 */
export const INGEST_LOG_LINGER_MS = 250;

/** Records entries, those asked for while a command is in flight or lingering together in one (groupedWrite). */
export function ingestLogWriter(
  store: Store,
  retryDelaysMs = INGEST_LOG_RETRY_DELAYS_MS,
  lingerMs = INGEST_LOG_LINGER_MS,
): (doc: IngestLogDoc) => Promise<void> {
  return groupedWrite<IngestLogDoc, void>(
    async (docs) => {
      for (let tryNo = 0; ; tryNo++) {
        try {
          await store.ingestLog.insertMany(docs, { ordered: false });
          return docs.map(() => undefined);
        } catch (err) {
          const refused = writeErrorsByIndex(err, docs.length);
          if (refused) {
            // Ids are new to each entry: a duplicate on a later try is the entry an earlier try stored.
            return docs.map((_, i) => {
              const error = refused.get(i);
              return !error || (tryNo > 0 && isDuplicateKeyError(error)) ? undefined : new Error(error.errmsg ?? 'refused');
            });
          }
          if (tryNo >= retryDelaysMs.length) throw err;
          await sleep(retryDelaysMs[tryNo]);
        }
      }
    },
    undefined,
    lingerMs,
  );
}

/** Newest first by time of refusal; with `keyId`, that key's refusals only (`tenant_key_time`). */
export function listIngestLog(store: Store, tenant: string, q: IngestLogQuery, keyId?: string): Promise<Page<IngestLogDoc>> {
  const filter: Filter<IngestLogDoc> = { tenant, ...(keyId !== undefined && { keyId }) };
  if (q.status) filter.status = q.status;
  if (q.since || q.until) filter.at = { ...(q.since && { $gte: new Date(q.since) }), ...(q.until && { $lte: new Date(q.until) }) };
  return keysetPage(store.ingestLog, filter, { time: 'at', id: '_id' }, q.limit, q.cursor);
}

/** One bounded batch of the log's retention; answers how many entries went. */
export async function deleteExpiredIngestLog(store: Store, before: Date, limit: number): Promise<number> {
  const expired = await store.ingestLog
    .find({ at: { $lt: before } }, { projection: { _id: 1 } })
    .limit(limit)
    .toArray();
  if (expired.length === 0) return 0;
  return (await store.ingestLog.deleteMany({ _id: { $in: expired.map((d) => d._id) } })).deletedCount;
}
