import { useState } from 'react';
import { describeLimits } from '../../../src/domain/key-limits';
import { call, type ApiKey, type Page, type Scope } from '../api';
import { ActionButton, ErrorNote, Head, ShownOnce, Time } from '../components';
import { useLoad } from '../hooks';

const SCOPES: { scope: Scope; meaning: string }[] = [
  { scope: 'events:read', meaning: 'read events, deliveries and attempts' },
  { scope: 'events:write', meaning: 'send events; retry, cancel and replay deliveries' },
  { scope: 'subscriptions:read', meaning: 'read subscriptions and their health' },
  { scope: 'subscriptions:write', meaning: 'create, change, test and delete subscriptions' },
];

function RevokeButton({ keyId, onRevoked }: { keyId: string; onRevoked: () => void }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Revoke…
      </button>
    );
  }
  return (
    <>
      <ActionButton className="danger" label="Yes, revoke" run={() => call('DELETE', `/api-keys/${keyId}`).then(onRevoked)} />
      <button type="button" onClick={() => setConfirming(false)}>
        Keep it
      </button>
    </>
  );
}

/** What a key is limited to, as the CLI prints it; "whole tenant" for a key without limits. */
function limitsOf(k: ApiKey): string {
  return k.subjects || k.eventTypes ? describeLimits({ subjects: k.subjects, eventTypes: k.eventTypes }) : 'whole tenant';
}

/** API keys (admin key only): create with scopes, see the key once with its expiry and limits, revoke. */
export function ApiKeys() {
  const { data, error, reload } = useLoad(() => call<Page<ApiKey>>('GET', '/api-keys?limit=200'), []);
  const [name, setName] = useState('');
  const [tenant, setTenant] = useState('default');
  const [scopes, setScopes] = useState<Scope[]>(['events:read']);
  const [created, setCreated] = useState<ApiKey>();
  const [createError, setCreateError] = useState<unknown>();

  return (
    <>
      <h1>API keys</h1>
      <section aria-labelledby="new-key">
        <h2 id="new-key">New key</h2>
        <form
          className="form"
          onSubmit={async (e) => {
            e.preventDefault();
            setCreateError(undefined);
            try {
              setCreated(await call<ApiKey>('POST', '/api-keys', { name, tenant, scopes }));
              setName('');
              reload();
            } catch (err) {
              setCreateError(err);
            }
          }}
        >
          <label htmlFor="key-name">Name</label>
          <input id="key-name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. billing service" />
          <label htmlFor="key-tenant">Tenant</label>
          <input id="key-tenant" required value={tenant} onChange={(e) => setTenant(e.target.value)} />
          <fieldset>
            <legend>Scopes</legend>
            {SCOPES.map(({ scope, meaning }) => (
              <label key={scope} className="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) => setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))}
                />
                <code>{scope}</code> <span className="muted">— {meaning}</span>
              </label>
            ))}
          </fieldset>
          <ErrorNote error={createError} />
          <button type="submit" disabled={scopes.length === 0}>
            Create key
          </button>
        </form>
        {created?.key && <ShownOnce label={`API key "${created.name}"`} value={created.key} />}
      </section>

      <h2>Keys</h2>
      <ErrorNote error={error} />
      {data && (
        <div className="table-wrap">
          <table>
            <Head columns={['Name', 'Tenant', 'Scopes', 'Limits', 'Starts with', 'Created', 'Expires', 'Revoked', '']} />
            <tbody>
              {data.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>{k.tenant}</td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>{limitsOf(k)}</td>
                  <td>
                    <code>{k.prefix}</code>
                  </td>
                  <td>
                    <Time iso={k.createdAt} />
                  </td>
                  <td>
                    {k.expiresAt ? (
                      <>
                        <Time iso={k.expiresAt} />
                        {Date.parse(k.expiresAt) <= Date.now() && ' (expired)'}
                      </>
                    ) : (
                      'never'
                    )}
                  </td>
                  <td>{k.revokedAt ? <Time iso={k.revokedAt} /> : 'no'}</td>
                  <td>{!k.revokedAt && <RevokeButton keyId={k.id} onRevoked={reload} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
