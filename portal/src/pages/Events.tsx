import { call, type ListedEvent, type Page } from '../api';
import { query } from '../query';
import { ErrorNote, FilterButtons, Head, Pager, Status, Time } from '../components';
import { useFilters, useLoad } from '../hooks';

/** Live updates are polling: the first page is asked for again every few seconds. */
const POLL_MS = 3_000;
const STATUSES = ['delivering', 'delivered', 'failed', 'cancelled'];

interface Filters {
  type: string;
  subjectType: string;
  subjectId: string;
  actor: string;
  status: string;
  since: string;
  until: string;
}
const NO_FILTERS: Filters = { type: '', subjectType: '', subjectId: '', actor: '', status: '', since: '', until: '' };

/** `datetime-local` values are local time; the API wants RFC 3339. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The tenant's events, newest first, filtered like `GET /v1/events`. */
export function Events() {
  const { draft, setDraft, filters, cursors, setCursors, cursor, apply, clear } = useFilters(NO_FILTERS);
  const { data, error } = useLoad(
    () =>
      call<Page<ListedEvent>>(
        'GET',
        `/events${query({ ...filters, since: isoOf(filters.since), until: isoOf(filters.until), limit: 50, cursor })}`,
      ),
    [filters, cursor],
    POLL_MS,
  );
  const field = (name: keyof Filters, label: string, placeholder = '', type = 'text') => (
    <div className="field">
      <label htmlFor={`f-${name}`}>{label}</label>
      <input
        id={`f-${name}`}
        type={type}
        value={draft[name]}
        placeholder={placeholder}
        onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
      />
    </div>
  );

  return (
    <>
      <h1>Events</h1>
      <form className="filters" onSubmit={apply} aria-label="Filter events">
        {field('type', 'Type', 'order.created or order.*')}
        {field('subjectType', 'Subject type', 'e.g. order')}
        {field('subjectId', 'Subject id')}
        {field('actor', 'Actor')}
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        {field('since', 'From', '', 'datetime-local')}
        {field('until', 'To', '', 'datetime-local')}
        <FilterButtons onClear={clear} />
      </form>
      <p className="help" aria-live="off">
        Updates every {POLL_MS / 1000} s while this page is open.
      </p>
      <ErrorNote error={error} />
      {data && data.data.length === 0 && <p>No events match.</p>}
      {data && data.data.length > 0 && (
        <div className="table-wrap">
          <table className="stack">
            <Head columns={['Occurred', 'Type', 'Status', 'Subject', 'Actor', 'Id']} />
            <tbody>
              {data.data.map((e) => (
                <tr key={e.id}>
                  <td data-label="Occurred">
                    <Time iso={e.occurredAt} />
                  </td>
                  <td data-label="Type">
                    <code>{e.type}</code>
                  </td>
                  <td data-label="Status">
                    <Status value={e.status} />
                  </td>
                  <td data-label="Subject">{e.subject ? `${e.subject.type}/${e.subject.id}` : <span className="muted">—</span>}</td>
                  <td data-label="Actor">{e.actor ?? <span className="muted">—</span>}</td>
                  <td data-label="Id">
                    <a href={`#/events/${e.id}`}>{e.id}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={data?.nextCursor} />
    </>
  );
}
