import { useState } from 'react';
import { call, type Me } from '../api';
import { ErrorNote } from '../components';

/** Asks for an API key and checks it with `GET /v1/me` before keeping it. */
export function SignIn({ reason, onSignedIn }: { reason?: string; onSignedIn: (key: string, me: Me) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <main className="sign-in" id="main">
      <h1>Herald portal</h1>
      {reason && (
        <p role="status" className="notice">
          {reason}
        </p>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            onSignedIn(key.trim(), await call<Me>('GET', '/me', undefined, key.trim()));
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby="api-key-help"
        />
        <p id="api-key-help" className="help">
          An API key of your tenant (or the admin key that <code>make dev</code> prints). It stays in this tab only (session storage) and is
          sent to the API as <code>Authorization: Bearer</code>.
        </p>
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ErrorNote error={error} />
    </main>
  );
}
