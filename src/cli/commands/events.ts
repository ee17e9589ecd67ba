import { Command, Option } from 'commander';
import type { Attempt, EventInput, EventListItem, EventListQuery, EventView } from '../../client';
import { EVENT_STATUSES } from '../../domain/status';
import { clientFor, outputOf, parse } from '../context';
import { emit, record, table, type Column } from '../output';
import { listCommand } from './list';

const EVENT_COLUMNS: Column<EventListItem>[] = [
  { header: 'ID', value: (e) => e.id },
  { header: 'TYPE', value: (e) => e.type },
  { header: 'STATUS', value: (e) => e.status },
  { header: 'SUBJECT', value: (e) => e.subject && `${e.subject.type}/${e.subject.id}` },
  { header: 'OCCURRED', value: (e) => e.occurredAt },
];

const DELIVERY_COLUMNS: Column<EventView['deliveries'][number]>[] = [
  { header: 'SUBSCRIPTION', value: (d) => d.subscriptionId },
  { header: 'STATUS', value: (d) => d.status },
  { header: 'ATTEMPTS', value: (d) => d.attempts },
  { header: 'LAST', value: (d) => d.lastResponseStatus },
  { header: 'NEXT', value: (d) => d.nextAttemptAt },
  { header: 'ERROR', value: (d) => d.error },
];

const ATTEMPT_COLUMNS: Column<Attempt>[] = [
  { header: 'SUBSCRIPTION', value: (a) => a.subscriptionId },
  { header: 'ATTEMPT', value: (a) => a.attempt },
  { header: 'STARTED', value: (a) => a.startedAt },
  { header: 'MS', value: (a) => a.durationMs },
  { header: 'RESPONSE', value: (a) => a.response?.status },
  { header: 'ERROR', value: (a) => a.error },
];

function eventView(view: EventView): string {
  const { event } = view;
  const head = record({
    id: event.id,
    type: event.type,
    status: view.status,
    subject: event.subject && `${event.subject.type}/${event.subject.id}`,
    actor: event.actor,
    correlationId: event.correlationId,
    occurredAt: event.occurredAt,
    data: event.data,
    // Subscriptions of the event's type whose filter it failed: why they have no delivery.
    filteredOut: view.filteredOut.length > 0 ? view.filteredOut.join(', ') : undefined,
  });
  return view.deliveries.length ? `${head}\n\n${table(view.deliveries, DELIVERY_COLUMNS)}` : `${head}\n\n(no deliveries)`;
}

/** cancel, retry and replay: the same shape, one event and optionally one subscription. */
function controlCommand(name: 'cancel' | 'retry' | 'replay', description: string): Command {
  return new Command(name)
    .description(description)
    .argument('<id>', 'event id')
    .option('--subscription <id>', 'only this subscription')
    .action(async (id: string, opts: { subscription?: string }, command: Command) => {
      const control = opts.subscription ? { subscriptionId: opts.subscription } : {};
      const answer = await clientFor(command).events[name](id, control);
      emit(outputOf(command), answer, (a) => ('workflowIds' in a ? a.workflowIds.join('\n') || '(no delivery to signal)' : a.workflowId));
    });
}

export function eventsCommand(): Command {
  const events = new Command('events').description('send events, read the audit, steer deliveries');

  events
    .command('send')
    .description('send one event (an id is generated when none is given, so a retry is not a second event)')
    .argument('<type>', 'event type, e.g. package.promoted')
    .option('--data <json>', 'the event data, a JSON object', parse.json, {})
    .option('--id <id>', 'event id')
    .option('--subject <type/id>', 'the resource the event is about', parse.subject)
    .option('--actor <actor>')
    .option('--source <source>')
    .option('--parent-id <id>')
    .option('--correlation-id <id>')
    .option('--occurred-at <time>', 'RFC 3339')
    .action(async (type: string, opts: Omit<EventInput, 'type'>, command: Command) => {
      const event: EventInput = { type, ...opts };
      emit(outputOf(command), await clientFor(command).events.send(event), (a) => record(a));
    });

  events
    .command('get')
    .description('an event with its deliveries')
    .argument('<id>', 'event id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      emit(outputOf(command), await clientFor(command).events.get(id), eventView);
    });

  events.addCommand(
    listCommand<EventListItem, EventListQuery>('list', 'events, newest first', EVENT_COLUMNS, (client, query) => client.events.list(query))
      .option('--type <type>', 'exact, or "prefix.*"')
      .option('--subject-type <type>')
      .option('--subject-id <id>')
      .option('--actor <actor>')
      .option('--correlation-id <id>')
      .addOption(new Option('--status <status>').choices(EVENT_STATUSES))
      .option('--since <time>', 'RFC 3339, inclusive')
      .option('--until <time>', 'RFC 3339, inclusive'),
  );

  events
    .command('attempts')
    .description('every delivery attempt of an event')
    .argument('<id>', 'event id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      emit(outputOf(command), await clientFor(command).events.attempts(id), (attempts) => table(attempts, ATTEMPT_COLUMNS));
    });

  events.addCommand(controlCommand('cancel', 'cancel the deliveries not yet final'));
  events.addCommand(controlCommand('retry', 'attempt waiting deliveries now; give failed ones a fresh run'));
  events.addCommand(controlCommand('replay', 'deliver the stored event again, as new messages'));
  return events;
}
