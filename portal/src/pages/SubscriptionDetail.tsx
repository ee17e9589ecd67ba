import { useState } from 'react';
import { DEFAULT_RETRY_SCHEDULE } from '../../../src/domain/schedule';
import { call, type AttemptView, type Me, type Subscription, type SubscriptionHealth } from '../api';
import { can, limited } from '../me';
import { ActionButton, ErrorNote, percent, ShownOnce, Status, Time } from '../components';
import { go, useLoad } from '../hooks';
import { SubscriptionForm } from './SubscriptionForm';
import { destinationText } from '../destination';

interface TestOutcome {
  eventId: string;
  status: string;
  attempt?: AttemptView | null;
}

function testOutcome(result: unknown) {
  const r = result as TestOutcome;
  const a = r.attempt;
  return (
    <>
      Test <Status value={r.status} />
      {a && (a.response && a.response.status !== null ? ` HTTP ${a.response.status}` : ` ${a.error ?? a.response?.body ?? ''}`)}
      {a && ` in ${a.durationMs} ms`} · <a href={`#/events/${r.eventId}`}>see the event</a>
    </>
  );
}

/** The local time an `<input type="datetime-local">` shows, 24 hours ago. */
function dayAgoLocal(): string {
  const d = new Date(Date.now() - 24 * 3600_000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** One subscription: its health, settings and the actions on it. */
export function SubscriptionDetail({ me, id }: { me: Me; id: string }) {
  const { data, error, reload } = useLoad(
    () => Promise.all([call<Subscription>('GET', `/subscriptions/${id}`), call<SubscriptionHealth>('GET', `/subscriptions/${id}/health`)]),
    [id],
    10_000,
  );
  const [secret, setSecret] = useState<string>();
  const [editing, setEditing] = useState(false);
  const [recoverSince, setRecoverSince] = useState(dayAgoLocal);
  const [confirmDelete, setConfirmDelete] = useState(false);
  if (!data) return error ? <ErrorNote error={error} /> : <p className="loading">Loading…</p>;
  const [s, h] = data;
  const write = can(me, 'subscriptions:write');

  return (
    <>
      <p>
        <a href="#/subscriptions">← Subscriptions</a>
      </p>
      <h1>{s.name ?? s.id}</h1>
      <ErrorNote error={error} />
      <dl className="facts">
        <dt>Id</dt>
        <dd>
          <code>{s.id}</code>
        </dd>
        <dt>{s.channel === 'webhook' ? 'Endpoint' : 'Destination'}</dt>
        <dd>
          <code>{destinationText(s)}</code>
        </dd>
        {s.channel === 'webhook' && (
          <>
            <dt>Format</dt>
            <dd>
              {s.format ?? 'standard'}
              {s.template && (
                <>
                  {' '}
                  with template <code>{s.template}</code>
                </>
              )}
            </dd>
          </>
        )}
        <dt>Event types</dt>
        <dd>{s.eventTypes.join(', ')}</dd>
        <dt>Filter</dt>
        <dd>{s.filter ? <code>{JSON.stringify(s.filter)}</code> : 'none: every event of these types'}</dd>
        <dt>State</dt>
        <dd>
          <Status value={s.active ? 'active' : 'disabled'} />{' '}
          {s.disabledReason && (
            <>
              — {s.disabledReason} (<Time iso={s.disabledAt} />)
            </>
          )}
        </dd>
        <dt>Retries</dt>
        <dd>
          {s.retry?.schedule ? s.retry.schedule.join(', ') : `${DEFAULT_RETRY_SCHEDULE.join(', ')} (the default)`}
          {s.retry?.maxAttempts ? `, at most ${s.retry.maxAttempts} attempts` : ''}; timeout {s.timeoutMs} ms
        </dd>
        <dt>Success (24 h)</dt>
        <dd>
          {percent(h.successRate)} — {h.deliveries.succeeded} succeeded, {h.deliveries.failed} failed, {h.deliveries.retrying} retrying,{' '}
          {h.deliveries.pending} pending
        </dd>
        <dt>Last error</dt>
        <dd>
          {h.lastError ? (
            <>
              <a href={`#/events/${h.lastError.eventId}`}>{h.lastError.eventId}</a>:{' '}
              {h.lastError.responseStatus ? `HTTP ${h.lastError.responseStatus}` : ''} {h.lastError.error} (<Time iso={h.lastError.at} />)
            </>
          ) : (
            'none'
          )}
        </dd>
        {h.failingSince && (
          <>
            <dt>Failing since</dt>
            <dd>
              <Time iso={h.failingSince} />
            </dd>
          </>
        )}
      </dl>

      {secret && <ShownOnce label="New signing secret" value={secret} />}

      {write && (
        <section aria-labelledby="actions">
          <h2 id="actions">Actions</h2>
          <div className="actions">
            <ActionButton label="Send test" run={() => call('POST', `/subscriptions/${s.id}/test`).finally(reload)} done={testOutcome} />
            {/* Keyed by the state, so the button starts afresh once the State line shows the change. */}
            <ActionButton
              key={String(s.active)}
              label={s.active ? 'Disable' : 'Enable'}
              run={() => call('PATCH', `/subscriptions/${s.id}`, { active: !s.active }).finally(reload)}
            />
            <ActionButton
              label="Rotate secret"
              run={async () => setSecret((await call<Subscription>('POST', `/subscriptions/${s.id}/rotate-secret`, {})).secret)}
              done={() => 'Rotated: the old secret keeps signing beside the new one for 24 h'}
            />
            <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              {editing ? 'Close editor' : 'Edit'}
            </button>
          </div>
          <div className="row recover">
            <label htmlFor="recover-since">Redeliver failed deliveries since</label>
            <input id="recover-since" type="datetime-local" value={recoverSince} onChange={(e) => setRecoverSince(e.target.value)} />
            <ActionButton
              label="Recover"
              run={() => call('POST', `/subscriptions/${s.id}/recover`, { since: new Date(recoverSince).toISOString() })}
              done={() => 'Recovery started: failed deliveries are being sent again'}
            />
          </div>
          {editing && (
            <SubscriptionForm
              me={me}
              existing={s}
              onSaved={() => {
                setEditing(false);
                reload();
              }}
            />
          )}
          {/* A portal session's subscriptions are the tenant's to delete, not the visitor's. */}
          {!limited(me) && (
            <div className="danger">
              {confirmDelete ? (
                <>
                  <span>Delete this subscription? Its deliveries stay in the audit.</span>
                  <ActionButton
                    className="danger"
                    label="Yes, delete"
                    run={() => call('DELETE', `/subscriptions/${s.id}`).then(() => go('/subscriptions'))}
                  />
                  <button type="button" onClick={() => setConfirmDelete(false)}>
                    Keep it
                  </button>
                </>
              ) : (
                <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
                  Delete…
                </button>
              )}
            </div>
          )}
        </section>
      )}
    </>
  );
}
