import { Command, Option } from 'commander';
import { CHANNEL_NAMES, WEBHOOK_FORMATS, type ChannelName, type WebhookFormat } from '../../domain/channels';
import type { ListQuery, Subscription, SubscriptionCreate, SubscriptionPatch, SubscriptionTestResult } from '../../client';
import { clientFor, outputOf, parse } from '../context';
import { emit, record, type Column } from '../output';
import { listCommand } from './list';

const COLUMNS: Column<Subscription>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'NAME', value: (s) => s.name },
  { header: 'CHANNEL', value: (s) => s.channel },
  { header: 'EVENT TYPES', value: (s) => s.eventTypes.join(',') },
  { header: 'TARGET', value: (s) => s.url ?? s.to?.join(',') ?? brokerTargetText(s.target) },
  { header: 'ACTIVE', value: (s) => (s.disabledAt ? `no (${s.disabledReason ?? 'disabled'})` : s.active ? 'yes' : 'no') },
];

/** A broker target in one cell: its URL (credentials shown as ***) and where it publishes there. */
function brokerTargetText(target: Subscription['target']): string | undefined {
  if (!target) return undefined;
  const { url, ...where } = target;
  return [url, ...Object.entries(where).map(([k, v]) => `${k}=${String(v)}`)].join(' ');
}

const subscriptionRecord = (s: Subscription) =>
  record({
    id: s.id,
    name: s.name,
    channel: s.channel,
    eventTypes: s.eventTypes.join(', '),
    filter: s.filter,
    url: s.url,
    to: s.to?.join(', '),
    target: s.target,
    headers: s.headers,
    format: s.format,
    template: s.template,
    retry: s.retry,
    timeoutMs: s.timeoutMs,
    rateLimitPerSecond: s.rateLimitPerSecond,
    active: s.active,
    disabledAt: s.disabledAt,
    disabledReason: s.disabledReason,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    secret: s.secret,
  });

interface SettingsFlags {
  name?: string;
  eventTypes?: string[];
  /** false: `--no-filter` on update. */
  filter?: Record<string, unknown> | false;
  webhook?: string;
  to?: string[];
  target?: Record<string, unknown>;
  header?: Record<string, string>;
  format?: WebhookFormat;
  /** false: `--no-template` on update. */
  template?: string | false;
  retrySchedule?: string[];
  maxAttempts?: number;
  timeoutMs?: number;
  rateLimit?: number;
  active?: boolean;
}

/** The flags create and update share, as the API's field names. */
function withSettingsOptions(command: Command): Command {
  return (
    command
      .option('--name <name>')
      .option('--event-types <patterns>', 'comma-separated: "*", "a.*" or "a.b"', parse.list)
      .option('--filter <json>', 'deliver only the events passing this filter, e.g. \'{"data.env": "prod"}\'', parse.json)
      // Not --url: that global option names the Herald API.
      .option('--webhook <url>', 'the webhook target URL')
      .option('--to <addresses>', 'email recipients, comma-separated', parse.list)
      .option(
        '--target <json>',
        'a broker channel\'s target, e.g. \'{"url": "amqp://user:pass@host:5672/", "exchange": "orders"}\' (docs/api.md section 7)',
        parse.json,
      )
      .option('--header <name:value>', 'a header sent with each webhook (repeatable)', parse.header)
      .addOption(
        new Option('--format <format>', "the webhook body: Herald's payload (standard) or a chat service's message").choices(
          WEBHOOK_FORMATS,
        ),
      )
      .option('--template <mustache>', "a chat format's text, e.g. '{{type}} on {{subjectText}}'")
      .option('--retry-schedule <delays>', 'delays before each retry, e.g. 5s,5m,30m', parse.list)
      .option('--max-attempts <n>', 'cut the schedule short', parse.integer)
      .option('--timeout-ms <ms>', 'per attempt', parse.integer)
      .option('--rate-limit <n>', 'deliveries per second at most', parse.integer)
  );
}

function settingsOf(flags: SettingsFlags): SubscriptionPatch {
  const retry =
    // A number given is sent even when 0, for the API to refuse (dropped, it asked for the default silently).
    flags.retrySchedule || flags.maxAttempts !== undefined
      ? {
          ...(flags.retrySchedule && { schedule: flags.retrySchedule }),
          ...(flags.maxAttempts !== undefined && { maxAttempts: flags.maxAttempts }),
        }
      : undefined;
  return {
    ...(flags.name !== undefined && { name: flags.name }),
    ...(flags.eventTypes && { eventTypes: flags.eventTypes }),
    ...(flags.filter !== undefined && { filter: flags.filter === false ? null : flags.filter }),
    ...(flags.webhook && { url: flags.webhook }),
    ...(flags.to && { to: flags.to }),
    ...(flags.target && { target: flags.target }),
    ...(flags.header && { headers: flags.header }),
    ...(flags.format && { format: flags.format }),
    ...(flags.template !== undefined && { template: flags.template === false ? null : flags.template }),
    ...(retry && { retry }),
    ...(flags.timeoutMs !== undefined && { timeoutMs: flags.timeoutMs }),
    ...(flags.rateLimit !== undefined && { rateLimitPerSecond: flags.rateLimit }),
    ...(flags.active !== undefined && { active: flags.active }),
  };
}

const testResult = (r: SubscriptionTestResult) =>
  record({
    eventId: r.eventId,
    workflowId: r.workflowId,
    status: r.status,
    response: r.attempt?.response?.status,
    durationMs: r.attempt?.durationMs,
    error: r.attempt?.error ?? r.delivery?.error,
  });

export function subscriptionsCommand(): Command {
  const subscriptions = new Command('subscriptions').alias('subs').description('who receives which events, and where');

  subscriptions.addCommand(
    withSettingsOptions(new Command('create').description('create a subscription; its signing secret is shown once'))
      .addOption(new Option('--channel <channel>').choices(CHANNEL_NAMES).default('webhook'))
      .option('--secret <whsec>', 'the signing secret to use instead of a generated one')
      .option('--inactive', 'create it paused')
      .action(async (opts: SettingsFlags & { channel: ChannelName; secret?: string; inactive?: boolean }, command: Command) => {
        const create = {
          ...settingsOf(opts),
          channel: opts.channel,
          ...(opts.secret && { secret: opts.secret }),
          ...(opts.inactive && { active: false }),
        } as SubscriptionCreate;
        emit(outputOf(command), await clientFor(command).subscriptions.create(create), subscriptionRecord);
      }),
  );

  subscriptions.addCommand(
    listCommand<Subscription, ListQuery>('list', 'subscriptions', COLUMNS, (client, query) => client.subscriptions.list(query)),
  );

  subscriptions
    .command('get')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, command: Command) => {
      emit(outputOf(command), await clientFor(command).subscriptions.get(id), subscriptionRecord);
    });

  subscriptions.addCommand(
    withSettingsOptions(new Command('update').description('change the given fields').argument('<id>'))
      .option('--no-filter', 'remove the filter: deliver every event of the types')
      .option('--no-template', "remove the template: the chat format's default text")
      .option('--active', 'resume deliveries')
      .option('--no-active', 'pause deliveries')
      .action(async (id: string, opts: SettingsFlags, command: Command) => {
        emit(outputOf(command), await clientFor(command).subscriptions.update(id, settingsOf(opts)), subscriptionRecord);
      }),
  );

  subscriptions
    .command('delete')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await clientFor(command).subscriptions.delete(id);
      emit(outputOf(command), { deleted: id }, () => `deleted ${id}`);
    });

  subscriptions
    .command('test')
    .description('send a herald.ping to this subscription and show the attempt')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, command: Command) => {
      emit(outputOf(command), await clientFor(command).subscriptions.test(id), testResult);
    });

  subscriptions
    .command('rotate')
    .description('replace the signing secret; the old one keeps signing beside it for 24 h')
    .argument('<id>')
    .option('--secret <whsec>', 'the new secret instead of a generated one')
    .action(async (id: string, opts: { secret?: string }, command: Command) => {
      emit(
        outputOf(command),
        await clientFor(command).subscriptions.rotateSecret(id, opts.secret ? { secret: opts.secret } : {}),
        subscriptionRecord,
      );
    });

  subscriptions
    .command('recover')
    .description('redeliver the failed deliveries opened in [since, until]')
    .argument('<id>')
    .requiredOption('--since <time>', 'RFC 3339')
    .option('--until <time>', 'RFC 3339 (default: now)')
    .action(async (id: string, opts: { since: string; until?: string }, command: Command) => {
      emit(outputOf(command), await clientFor(command).subscriptions.recover(id, opts), (a) => a.workflowId);
    });

  return subscriptions;
}
