import { Command, Option } from 'commander';
import type { ApiKey, ListQuery } from '../../client';
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
];

export function keysCommand(): Command {
  const keys = new Command('keys').description('API keys (admin key only)');

  keys
    .command('create')
    .description('create a key for one tenant; the key is shown once')
    .requiredOption('--name <name>')
    .requiredOption('--tenant <tenant>')
    .addOption(new Option('--scopes <scopes>', `comma-separated: ${SCOPES.join(', ')}`).argParser(parse.list).makeOptionMandatory())
    .action(async (opts: { name: string; tenant: string; scopes: ApiKey['scopes'] }, command: Command) => {
      emit(outputOf(command), await clientFor(command).apiKeys.create(opts), (k) => record({ ...k, scopes: k.scopes.join(', ') }));
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
