import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_PORTAL_SESSION_SECONDS } from '../../domain/portal-sessions';
import { parseDuration } from '../../domain/schedule';
import { clientFor, outputOf } from '../context';
import { emit } from '../output';

/** `--expires-in 1h`: whole seconds, at most a day. */
function expiresIn(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new InvalidArgumentError('must be a duration such as 30m, 1h or 1d');
  }
  const seconds = Math.round(ms / 1000);
  if (seconds < 1 || seconds > MAX_PORTAL_SESSION_SECONDS) throw new InvalidArgumentError('must be from 1s to 1d');
  return seconds;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function portalCommand(): Command {
  const portal = new Command('portal').description('the web portal');

  portal
    .command('link')
    .description('print a one-time link that opens the portal limited to some subscriptions (for the receiving side: no key handed out)')
    .option('--subscription <id>', 'a subscription the portal shows (repeatable)', collect)
    .option('--event-type <pattern>', 'or the subscriptions whose event types this covers (repeatable)', collect)
    .addOption(
      new Option('--expires-in <duration>', 'how long the link and its session last, at most 1d').argParser(expiresIn).default(3600, '1h'),
    )
    .option('--read-only', 'show only: no test, retry, recover or edit')
    .action(async (opts: { subscription?: string[]; eventType?: string[]; expiresIn: number; readOnly?: boolean }, command: Command) => {
      if (!opts.subscription && !opts.eventType) command.error('error: give --subscription or --event-type (or both)');
      const session = await clientFor(command).portalSessions.create({
        ...(opts.subscription && { subscriptionIds: opts.subscription }),
        ...(opts.eventType && { eventTypes: opts.eventType }),
        expiresIn: opts.expiresIn,
        ...(opts.readOnly && { readOnly: true }),
      });
      emit(outputOf(command), session, (s) => s.url);
    });

  return portal;
}
