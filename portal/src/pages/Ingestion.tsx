import { call, type IngestLogEntry, type Page } from '../api';
import { query } from '../query';
import { ErrorNote, FilterButtons, Head, Pager, Status, Time } from '../components';
import { useFilters, useLoad } from '../hooks';

const POLL_MS = 5_000;
/** The statuses ingestion answers: accepted, and each kind of refusal (docs/api.md). */
const STATUSES: [status: string, label: string][] = [
  ['202', '202 accepted'],
  ['400', '400 invalid'],
  ['403', '403 forbidden'],
  ['413', '413 too large'],
  ['429', '429 over the rate'],
  ['503', '503 unavailable'],
];

interface Filters {
  status: string;
  since: string;
  until: string;
}
const NO_FILTERS: Filters = { status: '', since: '', until: '' };
const isoOf = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** What a refusal answered, in the API's words: its title and detail, and each invalid field. */
function Refusal({ problem }: { problem: unknown }) {
  if (typeof problem !== 'object' || problem === null) return <code>{String(problem)}</code>;
  const p = problem as { title?: string; detail?: string; errors?: { path: string; message: string }[] };
  return (
    <>
      <strong>{p.title}</strong>
      {p.detail && <>: {p.detail}</>}
      {p.errors && p.errors.length > 0 && (
        <ul className="small-text">
          {p.errors.map((e) => (
            <li key={`${e.path}${e.message}`}>
              <code>{e.path}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** `GET /v1/ingest-log`: every ingestion request the tenant's keys made, accepted or refused, newest first. */
export function Ingestion() {
  const { draft, setDraft, filters, cursors, setCursors, cursor, apply, clear } = useFilters(NO_FILTERS);
  const { data, error } = useLoad(
    () =>
      call<Page<IngestLogEntry>>(
        'GET',
        `/ingest-log${query({ status: filters.status, since: isoOf(filters.since), until: isoOf(filters.until), limit: 50, cursor })}`,
      ),
    [filters, cursor],
    POLL_MS,
  );
  const time = (name: 'since' | 'until', label: string) => (
    <div className="field">
      <label htmlFor={`i-${name}`}>{label}</label>
      <input id={`i-${name}`} type="datetime-local" value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} />
    </div>
  );

  return (
    <>
      <h1>Ingestion</h1>
      <p className="help">
        Every <code>POST /v1/events</code> your keys made: accepted ones link to their events, refused ones show the problem answered and
        the body as received (the first 16 KiB). Kept <code>HERALD_INGEST_LOG_DAYS</code> days.
      </p>
      <form className="filters" onSubmit={apply} aria-label="Filter requests">
        <div className="field">
          <label htmlFor="i-status">Status</label>
          <select id="i-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">any</option>
            {STATUSES.map(([status, label]) => (
              <option key={status} value={status}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {time('since', 'From')}
        {time('until', 'To')}
        <FilterButtons onClear={clear} />
      </form>
      <ErrorNote error={error} />
      {data && data.data.length === 0 && <p>No requests match.</p>}
      {data && data.data.length > 0 && (
        <div className="table-wrap">
          <table className="stack">
            <Head columns={['Received', 'Status', 'Key', 'Outcome', 'Body']} />
            <tbody>
              {data.data.map((r) => (
                <tr key={r.id} aria-label={`Request ${r.id}`}>
                  <td data-label="Received">
                    <Time iso={r.at} />
                  </td>
                  <td data-label="Status">
                    <Status value={r.status < 400 ? 'accepted' : 'refused'} /> {r.status}
                  </td>
                  <td data-label="Key">
                    <code>{r.keyId}</code>
                  </td>
                  <td data-label="Outcome">
                    {r.status >= 400 && <Refusal problem={r.problem} />}
                    {r.eventIds.length > 0 && (
                      <div>
                        {r.status >= 400
                          ? 'Accepted before the refusal: '
                          : `${r.eventIds.length} event${r.eventIds.length === 1 ? '' : 's'}: `}
                        {r.eventIds.slice(0, 20).map((id) => (
                          <a key={id} href={`#/events/${id}`} className="event-link">
                            {id}
                          </a>
                        ))}
                        {r.eventIds.length > 20 && <span className="muted"> and {r.eventIds.length - 20} more</span>}
                      </div>
                    )}
                  </td>
                  <td data-label="Body">
                    {r.body ? (
                      <details>
                        <summary>
                          {r.bodyBytes} bytes{r.truncated ? ' (cut)' : ''}
                        </summary>
                        <pre className="body">{r.body}</pre>
                      </details>
                    ) : (
                      <span className="muted">{r.bodyBytes} bytes</span>
                    )}
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
