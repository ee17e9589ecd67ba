import type { Collection, Document, Filter, WithId } from 'mongodb';

/**
 * Keyset paging, the one way every list pages: newest first by a time field, ties broken by
 * an id field, so a cursor never skips or repeats an item however the collection grows.
 * Cursors are opaque to clients: base64url of the last item's (time, id).
 */

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** A cursor this API did not issue; the problem handler answers it as a 400 on `cursor`. */
export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this API issued');
  }
}

export function encodeCursor(key: [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string): [Date, string] | null {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(time));
    // Ids never hold control characters; one that does was not made here.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    if (typeof id !== 'string' || /[\u0000-\u001f]/.test(id) || Number.isNaN(date.getTime())) return null;
    return [date, id];
  } catch {
    return null;
  }
}

/** Which fields order a list: both descending. */
export interface KeysetOrder<T> {
  time: keyof T & string;
  id: keyof T & string;
}

/**
 * One page of `filter`. The filter's own fields stay top-level beside the keyset condition
 * (added under `$and`), so FerretDB still pushes its equalities down to an index.
 */
export async function keysetPage<T extends Document>(
  collection: Collection<T>,
  filter: Filter<T>,
  order: KeysetOrder<T>,
  limit: number,
  cursor: string | undefined,
): Promise<Page<WithId<T>>> {
  let query: Document = filter;
  if (cursor) {
    const key = decodeCursor(cursor);
    if (!key) throw new InvalidCursorError();
    const [time, id] = key;
    const after = { $or: [{ [order.time]: { $lt: time } }, { [order.time]: time, [order.id]: { $lt: id } }] };
    query = { ...filter, $and: [...((filter.$and as Document[] | undefined) ?? []), after] };
  }
  const docs = await collection
    .find(query as Filter<T>)
    .sort({ [order.time]: -1, [order.id]: -1 })
    .limit(limit + 1)
    .toArray();
  const data = docs.slice(0, limit);
  const last = data[data.length - 1];
  const nextCursor = docs.length > limit && last ? encodeCursor([(last[order.time] as Date).toISOString(), String(last[order.id])]) : null;
  return { data, nextCursor };
}
