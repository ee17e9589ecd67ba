import { useEffect, useState } from 'react';
import { call, session, whenUnauthorized, type Me } from './api';
import { can, isLimitedKey, limited } from './me';
import { go, useHashRoute } from './hooks';
import { ApiKeys } from './pages/ApiKeys';
import { EventDetail } from './pages/EventDetail';
import { Events } from './pages/Events';
import { Ingestion } from './pages/Ingestion';
import { Overview } from './pages/Overview';
import { SignIn } from './pages/SignIn';
import { SubscriptionDetail } from './pages/SubscriptionDetail';
import { SubscriptionForm } from './pages/SubscriptionForm';
import { Subscriptions } from './pages/Subscriptions';
import { Time } from './components';

/** Signs in (with a key, or by a portal session's cookie), then shows the pages it allows. */
export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [signedOutReason, setSignedOutReason] = useState<string>();
  const [checking, setChecking] = useState(true);
  const route = useHashRoute();

  useEffect(() => {
    whenUnauthorized((reason) => {
      session.clear();
      setMe(null);
      setSignedOutReason(`You were signed out: ${reason}`);
    });
    // A reload keeps the tab's session: ask again who the stored key is. Without a key, a
    // portal session's cookie may sign in; without either, /me answers 401 and the form shows.
    const hadKey = session.key() !== null;
    call<Me>('GET', '/me')
      .then(setMe, (err: Error) => {
        if (hadKey) session.clear();
        // A portal session that ended says so (expired, not valid); no cookie at all says nothing.
        else if (/portal session/.test(err.message)) setSignedOutReason(err.message);
      })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p className="loading">Loading…</p>;
  if (!me) {
    return (
      <SignIn
        reason={signedOutReason}
        onSignedIn={(key, who) => {
          session.save(key);
          setSignedOutReason(undefined);
          setMe(who);
          go(can(who, 'events:read') ? '/overview' : '/subscriptions');
        }}
      />
    );
  }

  const tenantWide = !limited(me);
  const pages = [
    { path: '/overview', label: 'Overview', allowed: tenantWide && can(me, 'events:read') && !isLimitedKey(me) },
    { path: '/subscriptions', label: 'Subscriptions', allowed: can(me, 'subscriptions:read') },
    { path: '/events', label: 'Events', allowed: tenantWide && can(me, 'events:read') },
    { path: '/ingestion', label: 'Ingestion', allowed: tenantWide && can(me, 'events:read') },
    { path: '/api-keys', label: 'API keys', allowed: me.admin },
  ].filter((p) => p.allowed);

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Herald</span>
        <nav aria-label="Pages">
          {pages.map((p) => (
            <a key={p.path} href={`#${p.path}`} aria-current={route.startsWith(p.path) ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        {me.portal ? (
          <span className="who">
            Portal session{me.portal.readOnly && <> · read-only</>} · until <Time iso={me.portal.expiresAt} />
          </span>
        ) : (
          <span className="who">
            Tenant <strong>{me.tenant}</strong> · key <code>{me.keyId}</code>
            {!me.admin && <> · {me.scopes.join(', ')}</>}
          </span>
        )}
        {/* A session's cookie is HttpOnly: it ends when it expires, not by a button that could not clear it. */}
        {!me.portal && (
          <button
            type="button"
            onClick={() => {
              session.clear();
              setMe(null);
              setSignedOutReason('You signed out.');
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} me={me} fallback={pages[0]?.path} />
      </main>
    </>
  );
}

function Page({ route, me, fallback }: { route: string; me: Me; fallback: string | undefined }) {
  const [, section, id] = route.split('/');
  const tenantWide = !limited(me);
  switch (section) {
    case 'overview':
      if (tenantWide && can(me, 'events:read') && !isLimitedKey(me)) return <Overview />;
      break;
    case 'subscriptions':
      if (!can(me, 'subscriptions:read')) break;
      if (id === 'new' && tenantWide) return <SubscriptionForm me={me} />;
      if (id) return <SubscriptionDetail me={me} id={id} />;
      return <Subscriptions me={me} />;
    case 'events':
      if (!can(me, 'events:read')) break;
      if (id) return <EventDetail me={me} id={id} />;
      if (tenantWide) return <Events />;
      break;
    case 'ingestion':
      if (tenantWide && can(me, 'events:read')) return <Ingestion />;
      break;
    case 'api-keys':
      if (me.admin) return <ApiKeys />;
      break;
  }
  if (fallback && route !== fallback) {
    go(fallback);
    return null;
  }
  return <p>This key may not read anything the portal shows.</p>;
}
