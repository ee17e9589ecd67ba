import { useState } from 'react';
import { call, type Me, type Page, type Subscription, type SubscriptionHealth } from '../api';
import { can, limited } from '../me';
import { query } from '../query';
import { ErrorNote, Head, Pager, percent, Status, Time } from '../components';
import { useLoad } from '../hooks';
import { destinationText } from '../destination';

/** Each refresh asks for every listed subscription's health, so not too often. */
const REFRESH_MS = 30_000;

/** Every subscription of the tenant with its health over the last 24 hours. */
export function Subscriptions({ me }: { me: Me }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const { data: page, error } = useLoad(
    async () => {
      const list = await call<Page<Subscription>>('GET', `/subscriptions${query({ limit: 50, cursor })}`);
      const health = await Promise.all(list.data.map((s) => call<SubscriptionHealth>('GET', `/subscriptions/${s.id}/health`)));
      return { rows: list.data.map((s, i) => ({ subscription: s, health: health[i] })), nextCursor: list.nextCursor };
    },
    [cursor],
    REFRESH_MS,
  );
  const data = page?.rows;
  return (
    <>
      <div className="title-row">
        <h1>Subscriptions</h1>
        {can(me, 'subscriptions:write') && !limited(me) && (
          <a className="button" href="#/subscriptions/new">
            New subscription
          </a>
        )}
      </div>
      <p className="help">Who receives which events. Health counts the deliveries opened in the last 24 hours.</p>
      <ErrorNote error={error} />
      {data && data.length === 0 && <p>No subscriptions yet.</p>}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="stack">
            <Head columns={['Subscription', 'Event types', 'State', 'Success (24 h)', 'Deliveries (24 h)', 'Last error']} />
            <tbody>
              {data.map(({ subscription: s, health: h }) => (
                <tr key={s.id}>
                  <td data-label="Subscription">
                    <a href={`#/subscriptions/${s.id}`}>{s.name ?? s.id}</a>
                    <div className="muted small-text">{destinationText(s)}</div>
                  </td>
                  <td data-label="Event types">{s.eventTypes.join(', ')}</td>
                  <td data-label="State">
                    <Status value={s.active ? 'active' : 'disabled'} />
                    {s.disabledReason && <div className="small-text">{s.disabledReason}</div>}
                  </td>
                  <td data-label="Success (24 h)">{percent(h.successRate)}</td>
                  <td data-label="Deliveries (24 h)">
                    {h.deliveries.succeeded} ok · {h.deliveries.failed} failed · {h.deliveries.retrying} retrying
                  </td>
                  <td data-label="Last error">
                    {h.lastError ? (
                      <>
                        <a href={`#/events/${h.lastError.eventId}`}>
                          {h.lastError.responseStatus ? `HTTP ${h.lastError.responseStatus}` : (h.lastError.error ?? h.lastError.status)}
                        </a>{' '}
                        <Time iso={h.lastError.at} />
                      </>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={page?.nextCursor} />
    </>
  );
}
