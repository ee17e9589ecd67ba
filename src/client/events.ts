import { newEventId } from '../domain/ids';
import { iteratePages } from './pagination';
import type { Transport } from './transport';
import type {
  AcceptedEvent,
  AcceptedLaterBatch,
  Attempt,
  DeliveryControl,
  EventInput,
  EventListItem,
  EventListQuery,
  EventView,
  Page,
  SignalledWorkflows,
  StartedWorkflow,
} from './types';

const eventPath = (id: string, action = '') => `/v1/events/${encodeURIComponent(id)}${action && `/${action}`}`;

/**
 * An event without an id gets one here, before the first try, so that a send retried after a
 * lost answer is recognised by the server (`duplicate: true`) instead of stored twice.
 */
const withId = (event: EventInput): EventInput & { id: string } => ({ ...event, id: event.id ?? newEventId() });

/** Events: sending (one or a batch of up to 500), reading the audit, and steering deliveries. */
export class EventsApi {
  constructor(private readonly http: Transport) {}

  send(event: EventInput): Promise<AcceptedEvent> {
    return this.http.request('POST', '/v1/events', { body: withId(event), idempotent: true });
  }

  /** One result per event, in input order; the batch is refused whole (HeraldProblemError 400) if any event is invalid. */
  async sendBatch(events: EventInput[]): Promise<AcceptedEvent[]> {
    const { results } = await this.http.request<{ results: AcceptedEvent[] }>('POST', '/v1/events', {
      body: { events: events.map(withId) },
      idempotent: true,
    });
    return results;
  }

  /**
   * A batch sent with `Prefer: respond-async`: answered once one workflow holding it has started,
   * which then starts each event's. Faster for many batches; the answer cannot say which ids
   * were used before.
   */
  sendBatchLater(events: EventInput[]): Promise<AcceptedLaterBatch> {
    return this.http.request('POST', '/v1/events', {
      body: { events: events.map(withId) },
      idempotent: true,
      headers: { prefer: 'respond-async' },
    });
  }

  get(id: string): Promise<EventView> {
    return this.http.request('GET', eventPath(id));
  }

  list(query: EventListQuery = {}): Promise<Page<EventListItem>> {
    return this.http.request('GET', '/v1/events', { query });
  }

  /** Every event the query selects, newest first, fetching pages as the loop goes. */
  iterate(query: Omit<EventListQuery, 'cursor'> = {}): AsyncGenerator<EventListItem, void, undefined> {
    return iteratePages((cursor) => this.list({ ...query, cursor }));
  }

  async attempts(id: string): Promise<Attempt[]> {
    const { data } = await this.http.request<Page<Attempt>>('GET', eventPath(id, 'attempts'));
    return data;
  }

  cancel(id: string, control: DeliveryControl = {}): Promise<SignalledWorkflows> {
    return this.http.request('POST', eventPath(id, 'cancel'), { body: control, idempotent: true });
  }

  retry(id: string, control: DeliveryControl = {}): Promise<SignalledWorkflows> {
    return this.http.request('POST', eventPath(id, 'retry'), { body: control, idempotent: true });
  }

  /** Starts a new delivery run: not retried after a network error, since a second replay would deliver again. */
  replay(id: string, control: DeliveryControl = {}): Promise<StartedWorkflow> {
    return this.http.request('POST', eventPath(id, 'replay'), { body: control });
  }
}
