import { call, can, type Me, type Page, type Subscription, type SubscriptionHealth } from '../api';
import { ErrorNote, Head, percent, Status, Time } from '../components';
import { useLoad } from '../hooks';

const REFRESH_MS = 10_000;

/** Every subscription of the tenant with its health over the last 24 hours. */
export function Subscriptions({ me }: { me: Me }) {
  const { data, error } = useLoad(
    async () => {
      const page = await call<Page<Subscription>>('GET', '/subscriptions?limit=100');
      const health = await Promise.all(page.data.map((s) => call<SubscriptionHealth>('GET', `/subscriptions/${s.id}/health`)));
      return page.data.map((s, i) => ({ subscription: s, health: health[i] }));
    },
    [],
    REFRESH_MS,
  );
  return (
    <>
      <div className="title-row">
        <h1>Subscriptions</h1>
        {can(me, 'subscriptions:write') && (
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
                    <div className="muted small-text">{s.url}</div>
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
    </>
  );
}
