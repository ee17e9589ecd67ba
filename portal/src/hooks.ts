import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';

/** The path after `#`, e.g. `/events/evt_1`: hash routes need no server support for deep links. */
export function useHashRoute(): string {
  const read = () => decodeURI(window.location.hash.replace(/^#/, '')) || '/';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function go(path: string): void {
  window.location.hash = path;
}

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
}

/**
 * Loads `load()` when `deps` change, and again every `pollMs` while the page is open (the
 * portal's live updates are polling: simple, and enough for a page a person watches).
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const generation = useRef(0);
  // `load` is a new function on every render; the caller's `deps` say when it really changed.
  const run = useCallback(load, deps);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    run().then(
      (value) => {
        if (mine !== generation.current) return; // a newer load is under way
        setData(value);
        setError(undefined);
      },
      (err: Error) => mine === generation.current && setError(err),
    );
  }, [run]);
  useEffect(() => {
    reload();
    if (!pollMs) return;
    const timer = setInterval(reload, pollMs);
    return () => clearInterval(timer);
  }, [reload, pollMs]);
  return { data, error, reload };
}

/**
 * A filtered list's state: the filters being typed (`draft`), those applied (`filters`, on
 * submit), and the trail of page cursors, which a new search or a clear starts afresh.
 */
export function useFilters<F>(none: F) {
  const [draft, setDraft] = useState<F>(none);
  const [filters, setFilters] = useState<F>(none);
  const [cursors, setCursors] = useState<string[]>([]);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setCursors([]);
    setFilters(draft);
  };
  const clear = () => {
    setDraft(none);
    setFilters(none);
    setCursors([]);
  };
  return { draft, setDraft, filters, cursors, setCursors, cursor: cursors[cursors.length - 1], apply, clear };
}
