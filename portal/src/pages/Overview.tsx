import { BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartData, type ChartOptions } from 'chart.js';
import { Bar } from 'react-chartjs-2';
import { call, type Overview as OverviewData } from '../api';
import { ErrorNote, Head, percent } from '../components';
import { useLoad } from '../hooks';

// Only the pieces these bar charts use, so the bundle stays small.
Chart.register(BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** Colours with at least 3:1 contrast on white, as WCAG asks of graphics. */
const COLOURS = { events: '#2456a6', succeeded: '#1b7a3a', failed: '#b3261e', retrying: '#a15c00', waiting: '#5f6368' };
const REFRESH_MS = 30_000;

const hourLabel = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

function barOptions(stacked: boolean, horizontal: boolean): ChartOptions<'bar'> {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: horizontal ? 'y' : 'x',
    plugins: { legend: { display: stacked, position: 'bottom' } },
    scales: { x: { stacked, ticks: { precision: 0 } }, y: { stacked, beginAtZero: true, ticks: { precision: 0 } } },
  };
}

/** A bar chart; canvas is invisible to screen readers, so `summary` says what it shows. */
function BarChart(props: {
  summary: string;
  labels: string[];
  datasets: ChartData<'bar'>['datasets'];
  horizontal?: boolean;
  small?: boolean;
}) {
  return (
    <div className={props.small ? 'chart small' : 'chart'}>
      <Bar
        aria-label={props.summary}
        role="img"
        options={barOptions(props.datasets.length > 1, props.horizontal ?? false)}
        data={{ labels: props.labels, datasets: props.datasets }}
      />
    </div>
  );
}

/** The last 24 hours: events and deliveries per hour, and the subscriptions that fail. */
export function Overview() {
  const { data, error } = useLoad(() => call<OverviewData>('GET', '/stats/overview'), [], REFRESH_MS);
  if (!data) return error ? <ErrorNote error={error} /> : <p className="loading">Loading…</p>;

  const labels = data.hours.map((h) => hourLabel(h.start));
  const totals = data.hours.reduce(
    (t, h) => ({
      events: t.events + h.events,
      succeeded: t.succeeded + h.deliveries.succeeded,
      failed: t.failed + h.deliveries.failed,
      retrying: t.retrying + h.deliveries.retrying,
    }),
    { events: 0, succeeded: 0, failed: 0, retrying: 0 },
  );
  const judged = totals.succeeded + totals.failed + totals.retrying;

  return (
    <>
      <h1>Overview</h1>
      <p className="help">
        The last 24 hours, by hour (your local time). Refreshes every 30 s. Events include Herald&apos;s own <code>herald.*</code> events
        (subscription and key changes, test pings).
      </p>
      <ErrorNote error={error} />
      <dl className="cards">
        <div>
          <dt>Events</dt>
          <dd>{totals.events}</dd>
        </div>
        <div>
          <dt>Deliveries succeeded</dt>
          <dd>{totals.succeeded}</dd>
        </div>
        <div>
          <dt>Deliveries failed</dt>
          <dd>{totals.failed}</dd>
        </div>
        <div>
          <dt>Success rate</dt>
          <dd>{percent(judged ? totals.succeeded / judged : null)}</dd>
        </div>
      </dl>

      <section aria-labelledby="events-per-hour">
        <h2 id="events-per-hour">Events per hour</h2>
        <BarChart
          summary={`Events per hour: ${totals.events} in 24 hours`}
          labels={labels}
          datasets={[{ label: 'Events', data: data.hours.map((h) => h.events), backgroundColor: COLOURS.events }]}
        />
      </section>

      <section aria-labelledby="deliveries-per-hour">
        <h2 id="deliveries-per-hour">Deliveries per hour</h2>
        <BarChart
          summary={`Deliveries per hour: ${totals.succeeded} succeeded, ${totals.failed} failed, ${totals.retrying} retrying`}
          labels={labels}
          datasets={[
            { label: 'Succeeded', data: data.hours.map((h) => h.deliveries.succeeded), backgroundColor: COLOURS.succeeded },
            { label: 'Failed', data: data.hours.map((h) => h.deliveries.failed), backgroundColor: COLOURS.failed },
            { label: 'Retrying', data: data.hours.map((h) => h.deliveries.retrying), backgroundColor: COLOURS.retrying },
            {
              label: 'Pending or cancelled',
              data: data.hours.map((h) => h.deliveries.pending + h.deliveries.cancelled),
              backgroundColor: COLOURS.waiting,
            },
          ]}
        />
      </section>

      <section aria-labelledby="failing">
        <h2 id="failing">Failing subscriptions</h2>
        {data.failingSubscriptions.length === 0 ? (
          <p>No subscription had a failed or retrying delivery in the last 24 hours.</p>
        ) : (
          <>
            <BarChart
              summary="Failed and retrying deliveries per subscription"
              horizontal
              small
              labels={data.failingSubscriptions.map((s) => s.name ?? s.subscriptionId)}
              datasets={[
                { label: 'Failed', data: data.failingSubscriptions.map((s) => s.deliveries.failed), backgroundColor: COLOURS.failed },
                { label: 'Retrying', data: data.failingSubscriptions.map((s) => s.deliveries.retrying), backgroundColor: COLOURS.retrying },
              ]}
            />
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Failing subscriptions</caption>
                <Head columns={['Subscription', 'Failed', 'Retrying', 'Succeeded', 'Success rate', 'Disabled']} />
                <tbody>
                  {data.failingSubscriptions.map((s) => (
                    <tr key={s.subscriptionId}>
                      <td>
                        <a href={`#/subscriptions/${s.subscriptionId}`}>{s.name ?? s.subscriptionId}</a>
                      </td>
                      <td>{s.deliveries.failed}</td>
                      <td>{s.deliveries.retrying}</td>
                      <td>{s.deliveries.succeeded}</td>
                      <td>{percent(s.successRate)}</td>
                      <td>{s.disabledReason ?? 'no'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
    </>
  );
}
