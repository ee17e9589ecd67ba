import type { IngestLogQuery } from '../domain/schemas';
import type { Filter } from 'mongodb';
import { groupedWrite } from './grouped-write';
import { writeErrorsByIndex, type IngestLogDoc, type Store } from './index';
import { keysetPage, type Page } from './paging';

/** The ingestion log: ingestion requests, accepted and refused, kept `HERALD_INGEST_LOG_DAYS`. */

/** Records entries, those asked for while a command is in flight together in the next (groupedWrite). */
export function ingestLogWriter(store: Store): (doc: IngestLogDoc) => Promise<void> {
  return groupedWrite<IngestLogDoc, void>(async (docs) => {
    try {
      await store.ingestLog.insertMany(docs, { ordered: false });
      return docs.map(() => undefined);
    } catch (err) {
      const refused = writeErrorsByIndex(err, docs.length);
      if (!refused) throw err;
      return docs.map((_, i) => (refused.has(i) ? new Error(refused.get(i)!.errmsg ?? 'refused') : undefined));
    }
  });
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
