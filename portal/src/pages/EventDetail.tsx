import { call, type AttemptView, type EventView, type Me, type Page, type Subscription } from '../api';
import { can, limited, workflowUrl } from '../me';
import { ActionButton, ErrorNote, Status, Time } from '../components';
import { useLoad } from '../hooks';

const POLL_MS = 2_000;

type DeliveryStatus = EventView['deliveries'][number]['status'];
const final = (s: DeliveryStatus) => s === 'succeeded' || s === 'failed' || s === 'cancelled';
/** What `retry` acts on: deliveries waiting for their next attempt, and failed ones (a fresh run). */
const retryable = (s: DeliveryStatus) => s === 'failed' || !final(s);

function Attempt({ a }: { a: AttemptView }) {
  // A broker's answer has no status: its acknowledgement (or refusal) is the outcome.
  const outcome = a.response
    ? a.response.status === null
      ? (a.error ?? 'acknowledged')
      : `HTTP ${a.response.status}`
    : (a.error ?? 'no answer');
  return (
    <details className="attempt">
      <summary>
        Attempt {a.attempt} · <Time iso={a.startedAt} /> · {outcome} · {a.durationMs} ms
      </summary>
      <h4>Request</h4>
      <p>
        {a.request.destination ? (
          <>
            Published to <code>{a.request.url}</code>{' '}
            {Object.entries(a.request.destination).map(([k, v]) => (
              <span key={k}>
                {k} <code>{v}</code>{' '}
              </span>
            ))}
          </>
        ) : (
          <code>POST {a.request.url}</code>
        )}
      </p>
      <table className="headers">
        <tbody>
          {Object.entries(a.request.headers).map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>
                <code>{v}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Response</h4>
      {a.response ? (
        <>
          {a.response.status === null ? <p>The broker answered:</p> : <p>Status {a.response.status}</p>}
          <pre className="body">{a.response.body || '(empty body)'}</pre>
        </>
      ) : (
        <p>No response.</p>
      )}
      {a.error && (
        <p>
          <strong>Error:</strong> {a.error}
        </p>
      )}
    </details>
  );
}

/** One event: its data, its deliveries with every attempt, and the controls on them. */
export function EventDetail({ me, id }: { me: Me; id: string }) {
  const { data, error, reload } = useLoad(
    () => Promise.all([call<EventView>('GET', `/events/${id}`), call<Page<AttemptView>>('GET', `/events/${id}/attempts`)]),
    [id],
    POLL_MS,
  );
  // Deliveries name their subscription by id; people know them by name.
  const { data: names } = useLoad(
    async () =>
      can(me, 'subscriptions:read')
        ? new Map((await call<Page<Subscription>>('GET', '/subscriptions?limit=200')).data.map((s) => [s.id, s.name ?? s.url ?? s.id]))
        : new Map<string, string>(),
    [me],
  );
  if (!data) return error ? <ErrorNote error={error} /> : <p className="loading">Loading…</p>;
  const [view, attempts] = data;
  const e = view.event;
  const write = can(me, 'events:write');
  // A portal session acts on its own deliveries one at a time, and sees no workflow or event list.
  const tenantWide = !limited(me);
  const control = (action: 'retry' | 'cancel' | 'replay', subscriptionId?: string) => () =>
    call('POST', `/events/${id}/${action}`, subscriptionId ? { subscriptionId } : {}).finally(reload);
  const workflows = [...new Set([`event/${me.tenant}/${e.id}`, ...view.deliveries.map((d) => d.workflowId)])];

  return (
    <>
      <p>{tenantWide ? <a href="#/events">← Events</a> : <a href="#/subscriptions">← Subscriptions</a>}</p>
      <h1>
        <code>{e.type}</code> <Status value={view.status} />
      </h1>
      <ErrorNote error={error} />
      <dl className="facts">
        <dt>Id</dt>
        <dd>
          <code>{e.id}</code>
        </dd>
        <dt>Occurred</dt>
        <dd>
          <Time iso={e.occurredAt} />
        </dd>
        {e.subject && (
          <>
            <dt>Subject</dt>
            <dd>
              {e.subject.type}/{e.subject.id}
            </dd>
          </>
        )}
        {e.actor && (
          <>
            <dt>Actor</dt>
            <dd>{e.actor}</dd>
          </>
        )}
        {e.correlationId && (
          <>
            <dt>Correlation</dt>
            <dd>{e.correlationId}</dd>
          </>
        )}
        {e.parentId && (
          <>
            <dt>Parent</dt>
            <dd>
              <a href={`#/events/${e.parentId}`}>{e.parentId}</a>
            </dd>
          </>
        )}
        {tenantWide && (
          <>
            <dt>Workflow</dt>
            <dd>
              {workflows.map((w) => (
                <div key={w}>
                  <a href={workflowUrl(me, w)} target="_blank" rel="noreferrer">
                    {w} in the Temporal Web UI
                  </a>
                </div>
              ))}
            </dd>
          </>
        )}
      </dl>
      <p className="help">This page updates every {POLL_MS / 1000} s.</p>

      {write && tenantWide && (
        <>
          <div className="actions">
            {view.deliveries.filter((d) => retryable(d.status)).length > 1 && (
              <ActionButton label="Retry all" run={control('retry')} done={() => 'Retry sent'} />
            )}
            {view.deliveries.filter((d) => !final(d.status)).length > 1 && (
              <ActionButton label="Cancel all" run={control('cancel')} done={() => 'Cancel sent'} />
            )}
            <ActionButton label="Replay" run={control('replay')} done={() => 'Replay started: new messages with new webhook-ids'} />
          </div>
          <p className="help">
            Retry attempts a waiting or failed delivery now; Cancel stops one that is not finished; Replay sends the stored event again, as
            a new message, to the subscriptions that match it today.
          </p>
        </>
      )}

      <h2>Deliveries</h2>
      {view.deliveries.length === 0 && (
        <p>
          {view.filteredOut.length > 0
            ? 'No delivery: the subscriptions of its type filtered it out (listed below).'
            : 'No subscription matched this event (yet).'}
        </p>
      )}
      {view.deliveries.map((d) => {
        const name = names?.get(d.subscriptionId) ?? d.subscriptionId;
        return (
          <section key={`${d.workflowId}|${d.subscriptionId}`} className="delivery" aria-label={`Delivery to ${name}`}>
            <h3>
              <a href={`#/subscriptions/${d.subscriptionId}`}>{name}</a> <Status value={d.status} />
            </h3>
            <p>
              {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
              {d.lastResponseStatus !== null && <> · last answer HTTP {d.lastResponseStatus}</>}
              {d.nextAttemptAt && (
                <>
                  {' '}
                  · next attempt <Time iso={d.nextAttemptAt} />
                </>
              )}
              {d.error && <> · {d.error}</>} · webhook-id <code>{d.messageId}</code>
              {d.workflowId !== `event/${me.tenant}/${e.id}` && <> · replay</>}
            </p>
            {d.actions.length > 0 && (
              <ul className="small-text">
                {d.actions.map((a) => (
                  <li key={`${a.action}${a.at}`}>
                    {a.action} asked by <code>{a.by}</code> at <Time iso={a.at} />
                  </li>
                ))}
              </ul>
            )}
            {write && retryable(d.status) && (
              <div className="actions">
                {retryable(d.status) && <ActionButton label="Retry" run={control('retry', d.subscriptionId)} done={() => 'Retry sent'} />}
                {!final(d.status) && <ActionButton label="Cancel" run={control('cancel', d.subscriptionId)} done={() => 'Cancel sent'} />}
              </div>
            )}
            {attempts.data
              .filter((a) => a.subscriptionId === d.subscriptionId)
              .map((a) => (
                <Attempt key={`${a.subscriptionId}#${a.attempt}#${a.startedAt}`} a={a} />
              ))}
          </section>
        );
      })}

      {view.filteredOut.length > 0 && (
        <>
          <h2>Filtered out</h2>
          <p className="help">These subscriptions take events of this type, but their filter left this one out.</p>
          <ul>
            {view.filteredOut.map((id) => (
              <li key={id}>
                <a href={`#/subscriptions/${id}`}>{names?.get(id) ?? id}</a>
              </li>
            ))}
          </ul>
        </>
      )}

      <h2>Data</h2>
      <pre className="body">{JSON.stringify(e.data, null, 2)}</pre>
    </>
  );
}
