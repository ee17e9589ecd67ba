import type { IngestLogQuery } from '../domain/schemas';
import { decodeCursor, encodeCursor, type IngestLogDoc, type Store } from './index';
import { InvalidCursorError } from './events';

/** The ingestion log: refused ingestion requests, kept `HERALD_INGEST_LOG_DAYS`. */

export async function recordRefusal(store: Store, doc: IngestLogDoc): Promise<void> {
  await store.ingestLog.insertOne(doc);
}

/** Newest first; the cursor is the last entry's (at, id). */
export async function listIngestLog(store: Store, tenant: string, q: IngestLogQuery): Promise<{ data: IngestLogDoc[]; nextCursor: string | null }> {
  const filter: Record<string, unknown> = { tenant };
  if (q.status) filter.status = q.status;
  if (q.since || q.until) filter.at = { ...(q.since && { $gte: new Date(q.since) }), ...(q.until && { $lte: new Date(q.until) }) };
  let query: object = filter;
  if (q.cursor) {
    const key = decodeCursor(q.cursor);
    if (!key) throw new InvalidCursorError();
    const [at, id] = key;
    query = { $and: [filter, { $or: [{ at: { $lt: at } }, { at, _id: { $lt: id } }] }] };
  }
  const docs = await store.ingestLog.find(query).sort({ at: -1, _id: -1 }).limit(q.limit + 1).toArray();
  const page = docs.slice(0, q.limit);
  const last = page[page.length - 1];
  return { data: page, nextCursor: docs.length > q.limit && last ? encodeCursor([last.at.toISOString(), last._id]) : null };
}

/** One bounded batch of the log's retention; answers how many entries went. */
export async function deleteExpiredIngestLog(store: Store, before: Date, limit: number): Promise<number> {
  const expired = await store.ingestLog.find({ at: { $lt: before } }, { projection: { _id: 1 } }).limit(limit).toArray();
  if (expired.length === 0) return 0;
  return (await store.ingestLog.deleteMany({ _id: { $in: expired.map((d) => d._id) } })).deletedCount;
}

export function ingestLogView(doc: IngestLogDoc) {
  let problem: unknown = doc.problem;
  try {
    problem = JSON.parse(doc.problem);
  } catch {
    // kept as text: the answer was not JSON
  }
  const { _id, tenant: _tenant, at, ...rest } = doc;
  return { id: _id, at: at.toISOString(), ...rest, problem };
}
