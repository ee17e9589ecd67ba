import { useState, type ReactNode } from 'react';
import { ApiError } from './api';

/** Small pieces every page uses. */

/** Status words are shown as text with a colour, never colour alone. */
export function Status({ value }: { value: string }) {
  return <span className={`status status-${value}`}>{value}</span>;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as Error;
  return (
    <div role="alert" className="error">
      <strong>{e instanceof ApiError ? `${e.status} ${e.title}` : 'Error'}:</strong> {e.message}
      {e instanceof ApiError && e.errors.length > 0 && (
        <ul>
          {e.errors.map((x) => (
            <li key={x.path}>
              <code>{x.path}</code> {x.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })}
    </time>
  );
}

export function percent(rate: number | null): string {
  return rate === null ? 'no traffic' : `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 1)} %`;
}

/** A secret or key shown once, with a copy button: the API will not show it again. */
export function ShownOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="shown-once" role="status">
      <p>
        <strong>{label}</strong> — copy it now: it will not be shown again.
      </p>
      <div className="row">
        <code className="secret" aria-label={label}>
          {value}
        </code>
        <button
          type="button"
          onClick={() =>
            navigator.clipboard?.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

/**
 * A button for one API call: disabled while it runs, and it says how it went next to itself
 * (in a live region, so screen readers hear it too).
 */
export function ActionButton({
  label,
  run,
  done,
  className,
}: {
  label: string;
  run: () => Promise<unknown>;
  done?: (result: unknown) => ReactNode;
  className?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ReactNode>(null);
  const [error, setError] = useState<unknown>();
  return (
    <span className="action">
      <button
        type="button"
        className={className}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          setOutcome(null);
          try {
            const result = await run();
            setOutcome(done ? done(result) : 'Done');
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? `${label}…` : label}
      </button>
      <span aria-live="polite" className="outcome">
        {outcome}
      </span>
      <ErrorNote error={error} />
    </span>
  );
}

/** A table's header row; an empty name is a column of buttons, named for screen readers only. */
export function Head({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) => (
          <th key={i} scope="col">
            {c || <span className="sr-only">Actions</span>}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** Newer/Older buttons over a list's cursors: `cursors` is the trail of pages opened so far. */
export function Pager({
  cursors,
  setCursors,
  nextCursor,
}: {
  cursors: string[];
  setCursors: (c: string[]) => void;
  nextCursor: string | null | undefined;
}) {
  return (
    <div className="row">
      {cursors.length > 0 && (
        <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
      )}
      {nextCursor && (
        <button type="button" onClick={() => setCursors([...cursors, nextCursor])}>
          Older
        </button>
      )}
    </div>
  );
}

/** A filter form's buttons: Search submits the form, Clear empties it and shows everything. */
export function FilterButtons({ onClear }: { onClear: () => void }) {
  return (
    <div className="field buttons">
      <button type="submit">Search</button>
      <button type="button" onClick={onClear}>
        Clear
      </button>
    </div>
  );
}
