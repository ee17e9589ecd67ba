import { Fragment, useState } from 'react';
import { BROKER_CHANNELS, isBrokerChannel, WEBHOOK_FORMATS, type BrokerChannel, type WebhookFormat } from '../../../src/domain/channels';
import { DEFAULT_RETRY_SCHEDULE } from '../../../src/domain/schedule';
import { ApiError, call, type EventTypeView, type ListedEvent, type Me, type Page, type Subscription } from '../api';
import { can, limited } from '../me';
import { ErrorNote, ShownOnce } from '../components';
import { useLoad } from '../hooks';

type KnownType = Pick<EventTypeView, 'type'> & Partial<Pick<EventTypeView, 'description'>>;

/**
 * Event types to pick from: the registry (`GET /v1/event-types`; a server without one answers
 * 404) and the types seen in the tenant's latest events, which a registry need not list.
 */
async function knownTypes(me: Me): Promise<KnownType[]> {
  const registry: KnownType[] = await call<Page<EventTypeView>>('GET', '/event-types?limit=200').then(
    (page) => page.data,
    (err: unknown) => {
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return [];
      throw err;
    },
  );
  // A portal session sees no tenant-wide list: its own event types are what it may choose from.
  const seen = limited(me)
    ? (me.portal?.eventTypes ?? [])
    : can(me, 'events:read')
      ? (await call<Page<ListedEvent>>('GET', '/events?limit=200')).data.map((e) => e.type)
      : [];
  const byType = new Map(registry.map((t) => [t.type, t]));
  for (const type of seen) if (!byType.has(type)) byType.set(type, { type });
  return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
}

function EventTypePicker({ me, value, onChange }: { me: Me; value: string[]; onChange: (v: string[]) => void }) {
  const { data: known, error } = useLoad(() => knownTypes(me), [me]);
  const [other, setOther] = useState('');
  const toggle = (type: string, on: boolean) => onChange(on ? [...value, type] : value.filter((t) => t !== type));
  const extra = value.filter((t) => t !== '*' && !known?.some((k) => k.type === t));
  return (
    <fieldset>
      <legend>Event types</legend>
      <label className="check">
        <input type="checkbox" checked={value.includes('*')} onChange={(e) => toggle('*', e.target.checked)} />
        All events (<code>*</code>)
      </label>
      {known?.map((k) => (
        <label key={k.type} className="check">
          <input type="checkbox" checked={value.includes(k.type)} onChange={(e) => toggle(k.type, e.target.checked)} />
          <code>{k.type}</code>
          {k.description && <span className="muted"> — {k.description}</span>}
        </label>
      ))}
      {known?.length === 0 && <p className="help">No event types registered or seen yet: type one below.</p>}
      {extra.map((t) => (
        <label key={t} className="check">
          <input type="checkbox" checked onChange={() => toggle(t, false)} />
          <code>{t}</code>
        </label>
      ))}
      <ErrorNote error={error} />
      <div className="row">
        <label htmlFor="other-type">Another type or prefix</label>
        <input id="other-type" placeholder="e.g. order.created or order.*" value={other} onChange={(e) => setOther(e.target.value)} />
        <button
          type="button"
          disabled={!other.trim() || value.includes(other.trim())}
          onClick={() => {
            onChange([...value, other.trim()]);
            setOther('');
          }}
        >
          Add
        </button>
      </div>
    </fieldset>
  );
}

const splitList = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

const numberOrUndefined = (text: string) => (text.trim() === '' ? undefined : Number(text));

/** The filter field as the API takes it: empty is no filter, which removes one the subscription had (null). */
function filterOf(text: string, existing: Subscription | undefined): Record<string, unknown> | null | undefined {
  if (text.trim() === '') return existing?.filter ? null : undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the filter is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the filter must be a JSON object');
  return value as Record<string, unknown>;
}

const FORMAT_LABELS: Record<WebhookFormat, string> = {
  standard: 'Standard Webhooks JSON (Herald payload)',
  slack: 'Slack incoming webhook',
  discord: 'Discord webhook',
  teams: 'Microsoft Teams incoming webhook',
};

const MAIL_TEMPLATE_LABELS = { subject: 'Subject template', body: 'Text template', html: 'HTML template' } as const;

/** The destinations the form creates (email subscriptions are made through the API or the CLI). */
type Destination = 'webhook' | BrokerChannel;

const DESTINATION_LABELS: Record<Destination, string> = {
  webhook: 'Webhook (HTTPS endpoint)',
  rabbitmq: 'RabbitMQ exchange',
  nats: 'NATS JetStream subject',
  redis: 'Redis stream',
  mqtt: 'MQTT topic',
};

/** Each broker's target fields besides its URL (docs/api.md section 7), with what they mean. */
const BROKER_FIELDS: Record<BrokerChannel, { name: string; label: string; placeholder: string; required?: boolean; number?: boolean }[]> = {
  rabbitmq: [
    { name: 'exchange', label: 'Exchange', placeholder: 'e.g. herald.events', required: true },
    { name: 'routingKey', label: 'Routing key', placeholder: "optional; default: the event's type" },
  ],
  nats: [{ name: 'subject', label: 'Subject', placeholder: 'e.g. herald.events (a JetStream stream must capture it)', required: true }],
  redis: [
    { name: 'stream', label: 'Stream', placeholder: 'e.g. herald:events', required: true },
    { name: 'maxLen', label: 'Maximum length', placeholder: 'optional: XADD MAXLEN', number: true },
  ],
  mqtt: [{ name: 'topic', label: 'Topic', placeholder: 'e.g. herald/events', required: true }],
};

const BROKER_URL_PLACEHOLDERS: Record<BrokerChannel, string> = {
  rabbitmq: 'amqp://user:password@host:5672/vhost',
  nats: 'nats://host:4222',
  redis: 'redis://host:6379/0',
  mqtt: 'mqtt://host:1883',
};

/** The broker target the form's fields make: text as entered, maxLen as a number, empty optional fields left out. */
function brokerTargetOf(channel: BrokerChannel, fields: Record<string, string>): Record<string, unknown> {
  const target: Record<string, unknown> = { url: (fields.url ?? '').trim() };
  for (const f of BROKER_FIELDS[channel]) {
    const value = (fields[f.name] ?? '').trim();
    if (value !== '' || (f.required && f.name === 'exchange')) target[f.name] = f.number ? Number(value) : value;
  }
  return target;
}

/** Create a subscription, or edit one (`existing`): the same fields either way. */
export function SubscriptionForm({ me, existing, onSaved }: { me: Me; existing?: Subscription; onSaved?: (s: Subscription) => void }) {
  const [name, setName] = useState(existing?.name ?? '');
  const [url, setUrl] = useState(existing?.url ?? '');
  const [destination, setDestination] = useState<Destination>((existing?.channel as Destination | undefined) ?? 'webhook');
  const initialTarget = Object.fromEntries(Object.entries(existing?.target ?? {}).map(([k, v]) => [k, String(v)]));
  const [targetFields, setTargetFields] = useState<Record<string, string>>(initialTarget);
  const [eventTypes, setEventTypes] = useState<string[]>(existing?.eventTypes ?? []);
  const [format, setFormat] = useState<WebhookFormat>(existing?.format ?? 'standard');
  const [template, setTemplate] = useState(existing?.template ?? '');
  const [filter, setFilter] = useState(existing?.filter ? JSON.stringify(existing.filter, null, 2) : '');
  const [schedule, setSchedule] = useState(existing?.retry?.schedule?.join(', ') ?? '');
  const [maxAttempts, setMaxAttempts] = useState(existing?.retry?.maxAttempts?.toString() ?? '');
  const [timeoutMs, setTimeoutMs] = useState(existing?.timeoutMs?.toString() ?? '');
  // Email subscriptions are made through the API or the CLI; the form edits them.
  const email = existing?.channel === 'email';
  const [to, setTo] = useState(existing?.to?.join(', ') ?? '');
  const [mail, setMail] = useState({ subject: existing?.subject ?? '', body: existing?.body ?? '', html: existing?.html ?? '' });
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Subscription>();

  if (created) {
    return (
      <>
        <h1>Subscription created</h1>
        <ShownOnce label="Signing secret" value={created.secret!} />
        <p className="help">
          {created.channel === 'webhook' ? (
            <>
              Receivers verify each request's <code>webhook-signature</code> with this secret (Standard Webhooks).
            </>
          ) : (
            <>
              Consumers verify each message's <code>webhook-signature</code> with this secret, exactly as a webhook receiver does.
            </>
          )}
        </p>
        <a className="button" href={`#/subscriptions/${created.id}`}>
          Open {created.name ?? created.id}
        </a>
      </>
    );
  }

  const submit = async () => {
    const schedules = splitList(schedule);
    const retry = {
      ...(schedules.length > 0 && { schedule: schedules }),
      ...(numberOrUndefined(maxAttempts) !== undefined && { maxAttempts: numberOrUndefined(maxAttempts) }),
    };
    const filterValue = filterOf(filter, existing);
    // Empty is the format's default text, which removes a template the subscription had (null).
    const templateValue = template.trim() ? template : existing?.template ? null : undefined;
    const broker = isBrokerChannel(destination) ? destination : undefined;
    const target = broker && brokerTargetOf(broker, targetFields);
    // The shown URL has its credentials as ***: an edit sends the target only when it changed,
    // and then needs the URL with its credentials entered again.
    const targetChanged = target !== undefined && JSON.stringify(brokerTargetOf(broker!, initialTarget)) !== JSON.stringify(target);
    if (existing && targetChanged && String(target!.url).includes('***'))
      throw new Error('enter the URL again with its credentials: the stored one is shown with them as ***');
    // An email template left empty is the default: one the subscription had is removed (null).
    const mailTemplate = (part: keyof typeof mail) =>
      mail[part].trim() ? { [part]: mail[part] } : existing?.[part] ? { [part]: null } : {};
    const destinationFields = email
      ? { to: splitList(to), ...mailTemplate('subject'), ...mailTemplate('body'), ...mailTemplate('html') }
      : broker
        ? (!existing || targetChanged) && { target }
        : { url: url.trim(), format, ...(templateValue !== undefined && { template: templateValue }) };
    const body = {
      ...(name.trim() && { name: name.trim() }),
      ...destinationFields,
      eventTypes,
      ...(filterValue !== undefined && { filter: filterValue }),
      ...(Object.keys(retry).length > 0 && { retry }),
      ...(numberOrUndefined(timeoutMs) !== undefined && { timeoutMs: numberOrUndefined(timeoutMs) }),
    };
    if (existing) onSaved?.(await call<Subscription>('PATCH', `/subscriptions/${existing.id}`, body));
    else setCreated(await call<Subscription>('POST', '/subscriptions', { channel: destination, ...body }));
  };

  return (
    <>
      {!existing && <h1>New subscription</h1>}
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            await submit();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label htmlFor="sub-name">Name</label>
        <input id="sub-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="optional, e.g. Billing service" />
        {!existing && (
          <>
            <label htmlFor="sub-destination">Destination</label>
            <select id="sub-destination" value={destination} onChange={(e) => setDestination(e.target.value as Destination)}>
              {(['webhook', ...BROKER_CHANNELS] as const).map((d) => (
                <option key={d} value={d}>
                  {DESTINATION_LABELS[d]}
                </option>
              ))}
            </select>
          </>
        )}
        {email ? (
          <>
            <label htmlFor="sub-to">Recipients</label>
            <input id="sub-to" required value={to} onChange={(e) => setTo(e.target.value)} placeholder="a@example.com, b@example.com" />
            {(['subject', 'body', 'html'] as const).map((part) => (
              <Fragment key={part}>
                <label htmlFor={`sub-mail-${part}`}>{MAIL_TEMPLATE_LABELS[part]}</label>
                <textarea
                  id={`sub-mail-${part}`}
                  rows={part === 'subject' ? 1 : 4}
                  value={mail[part]}
                  onChange={(e) => setMail({ ...mail, [part]: e.target.value })}
                  placeholder="optional; empty: the default"
                  spellCheck={false}
                />
              </Fragment>
            ))}
            <p className="help">
              Mustache templates over the event (<code>type</code>, <code>subjectText</code>, <code>actor</code>, <code>data.…</code>);
              values in HTML are escaped.
            </p>
          </>
        ) : isBrokerChannel(destination) ? (
          <>
            <label htmlFor="sub-broker-url">Broker URL</label>
            <input
              id="sub-broker-url"
              required
              value={targetFields.url ?? ''}
              onChange={(e) => setTargetFields({ ...targetFields, url: e.target.value })}
              placeholder={BROKER_URL_PLACEHOLDERS[destination]}
              aria-describedby="sub-broker-url-help"
              spellCheck={false}
            />
            <p id="sub-broker-url-help" className="help">
              A password or token in it is sealed at rest and shown as <code>***</code> from then on.
            </p>
            {BROKER_FIELDS[destination].map((f) => (
              <Fragment key={f.name}>
                <label htmlFor={`sub-target-${f.name}`}>{f.label}</label>
                <input
                  id={`sub-target-${f.name}`}
                  type={f.number ? 'number' : 'text'}
                  required={f.required && f.name !== 'exchange'}
                  value={targetFields[f.name] ?? ''}
                  onChange={(e) => setTargetFields({ ...targetFields, [f.name]: e.target.value })}
                  placeholder={f.placeholder}
                />
              </Fragment>
            ))}
          </>
        ) : (
          <>
            <label htmlFor="sub-url">Endpoint URL</label>
            <input
              id="sub-url"
              type="url"
              required
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.com/webhooks"
            />
            <label htmlFor="sub-format">Format</label>
            <select id="sub-format" value={format} onChange={(e) => setFormat(e.target.value as WebhookFormat)}>
              {WEBHOOK_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {FORMAT_LABELS[f]}
                </option>
              ))}
            </select>
            {format !== 'standard' && (
              <>
                <label htmlFor="sub-template">Message template (Mustache)</label>
                <textarea
                  id="sub-template"
                  rows={3}
                  value={template}
                  onChange={(e) => setTemplate(e.target.value)}
                  placeholder="optional, e.g. {{type}} on {{subjectText}} by {{actor}}"
                  aria-describedby="sub-template-help"
                  spellCheck={false}
                />
                <p id="sub-template-help" className="help">
                  Replaces the default text (type, subject, actor, time and event id). Names: <code>type</code>, <code>subjectText</code>,{' '}
                  <code>actor</code>, <code>occurredAt</code>, <code>id</code>, <code>data.…</code>. Empty: the default.
                </p>
              </>
            )}
          </>
        )}
        <EventTypePicker me={me} value={eventTypes} onChange={setEventTypes} />
        <label htmlFor="sub-filter">Filter (JSON)</label>
        <textarea
          id="sub-filter"
          rows={4}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          placeholder={'optional, e.g. {"data.env": "prod", "data.amount": {"$gte": 100}}'}
          aria-describedby="sub-filter-help"
          spellCheck={false}
        />
        <p id="sub-filter-help" className="help">
          Only events of these types that pass it are delivered. Fields <code>data.…</code>, <code>subject.type</code>,{' '}
          <code>subject.id</code>, <code>actor</code>, <code>source</code>, <code>type</code>; operators <code>$eq</code>, <code>$ne</code>,{' '}
          <code>$in</code>, <code>$nin</code>, <code>$gt</code>, <code>$gte</code>, <code>$lt</code>, <code>$lte</code>,{' '}
          <code>$exists</code>, <code>$and</code>, <code>$or</code>, <code>$not</code>. Empty: every event of these types.
        </p>
        <label htmlFor="sub-schedule">Retry schedule</label>
        <input
          id="sub-schedule"
          value={schedule}
          onChange={(e) => setSchedule(e.target.value)}
          placeholder={`default: ${DEFAULT_RETRY_SCHEDULE.join(', ')}`}
          aria-describedby="sub-schedule-help"
        />
        <p id="sub-schedule-help" className="help">
          Delays before each retry, separated by commas. The first attempt is immediate.
        </p>
        <label htmlFor="sub-max">Maximum attempts</label>
        <input
          id="sub-max"
          type="number"
          min={1}
          max={50}
          value={maxAttempts}
          onChange={(e) => setMaxAttempts(e.target.value)}
          placeholder="default: the schedule's length + 1"
        />
        <label htmlFor="sub-timeout">Timeout (ms)</label>
        <input
          id="sub-timeout"
          type="number"
          min={100}
          max={60000}
          value={timeoutMs}
          onChange={(e) => setTimeoutMs(e.target.value)}
          placeholder="default: 15000"
        />
        <ErrorNote error={error} />
        <button type="submit" disabled={busy || eventTypes.length === 0}>
          {existing ? 'Save changes' : 'Create subscription'}
        </button>
        {eventTypes.length === 0 && <p className="help">Pick at least one event type.</p>}
      </form>
    </>
  );
}
