import { Command, Option } from 'commander';
import type { ApiKey, ListQuery } from '../../client';
import { describeLimits } from '../../domain/key-limits';
import { SCOPES } from '../../domain/schemas';
import { clientFor, outputOf, parse } from '../context';
import { emit, record, type Column } from '../output';
import { listCommand } from './list';

const COLUMNS: Column<ApiKey>[] = [
  { header: 'ID', value: (k) => k.id },
  { header: 'NAME', value: (k) => k.name },
  { header: 'TENANT', value: (k) => k.tenant },
  { header: 'SCOPES', value: (k) => k.scopes.join(',') },
  { header: 'PREFIX', value: (k) => k.prefix },
  { header: 'REVOKED', value: (k) => k.revokedAt },
  { header: 'EXPIRES', value: (k) => k.expiresAt },
  { header: 'LIMITS', value: (k) => limitsText(k) },
];

/** A key's limits as `herald keys` prints them; nothing for a key that reaches its whole tenant. */
function limitsText(k: ApiKey): string | undefined {
  return k.subjects || k.eventTypes ? describeLimits({ subjects: k.subjects, eventTypes: k.eventTypes }) : undefined;
}

interface CreateOptions {
  name: string;
  tenant: string;
  scopes: ApiKey['scopes'];
  expiresIn?: number;
  expiresAt?: string;
  subject?: { type: string; id?: string }[];
  eventType?: string[];
}

export function keysCommand(): Command {
  const keys = new Command('keys').description('API keys (admin key only)');

  keys
    .command('create')
    .description('create a key for one tenant, optionally expiring and limited to resources; the key is shown once')
    .requiredOption('--name <name>')
    .requiredOption('--tenant <tenant>')
    .addOption(new Option('--scopes <scopes>', `comma-separated: ${SCOPES.join(', ')}`).argParser(parse.list).makeOptionMandatory())
    .addOption(new Option('--expires-in <duration>', 'the key stops working after this long: 30d, 12h, 90m').argParser(parse.duration))
    .addOption(new Option('--expires-at <time>', 'the key stops working at this RFC 3339 time').conflicts('expiresIn'))
    .option('--subject <type/id>', 'only events about this resource ("type" alone: any of that type); repeatable', parse.limitSubject)
    .option('--event-type <pattern>', 'only events whose type matches ("deploy.*", "build.finished"); repeatable', parse.repeated)
    .action(async (opts: CreateOptions, command: Command) => {
      const expiresAt = opts.expiresIn !== undefined ? new Date(Date.now() + opts.expiresIn).toISOString() : opts.expiresAt;
      const key = await clientFor(command).apiKeys.create({
        name: opts.name,
        tenant: opts.tenant,
        scopes: opts.scopes,
        ...(expiresAt && { expiresAt }),
        ...(opts.subject && { subjects: opts.subject }),
        ...(opts.eventType && { eventTypes: opts.eventType }),
      });
      emit(outputOf(command), key, (k) =>
        record({ ...k, scopes: k.scopes.join(', '), subjects: undefined, eventTypes: undefined, limits: limitsText(k) }),
      );
    });

  keys.addCommand(
    listCommand<ApiKey, ListQuery>('list', 'API keys, without the keys', COLUMNS, (client, query) => client.apiKeys.list(query)),
  );

  keys
    .command('revoke')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await clientFor(command).apiKeys.revoke(id);
      emit(outputOf(command), { revoked: id }, () => `revoked ${id}`);
    });

  return keys;
}
