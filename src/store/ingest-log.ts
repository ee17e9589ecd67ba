import type { IngestLogQuery } from '../domain/schemas';
import type { Filter } from 'mongodb';
import type { IngestLogDoc, Store } from './index';
import { keysetPage, type Page } from './paging';

/** The ingestion log: refused ingestion requests, kept `HERALD_INGEST_LOG_DAYS`. */

export async function recordRefusal(store: Store, doc: IngestLogDoc): Promise<void> {
  await store.ingestLog.insertOne(doc);
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
