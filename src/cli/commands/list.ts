import { Command } from 'commander';
import type { HeraldClient, Page } from '../../client';
import { iteratePages } from '../../client/pagination';
import { clientFor, outputOf, parse } from '../context';
import { emit, table, type Column } from '../output';

type Paging = { limit?: number; cursor?: string };

/**
 * A list command: one page (`--limit`, `--cursor`, the next cursor printed after the table),
 * or with `--all` every page. The command's other options become the query.
 */
export function listCommand<T, Q extends Paging>(
  name: string,
  description: string,
  columns: Column<T>[],
  fetchPage: (client: HeraldClient, query: Q) => Promise<Page<T>>,
): Command {
  return new Command(name)
    .description(description)
    .option('--limit <n>', 'items per page (at most 200)', parse.integer)
    .option('--cursor <cursor>', 'the page after this cursor')
    .option('--all', 'every page')
    .action(async (opts: Q & { all?: boolean }, command: Command) => {
      const { all, ...query } = opts;
      const client = clientFor(command);
      let page: Page<T>;
      if (all) {
        const data: T[] = [];
        for await (const item of iteratePages((cursor) => fetchPage(client, { ...query, limit: query.limit ?? 200, cursor } as Q)))
          data.push(item);
        page = { data, nextCursor: null };
      } else {
        page = await fetchPage(client, query as Q);
      }
      emit(outputOf(command), page, (p) => table(p.data, columns) + (p.nextCursor ? `\n\nmore: --cursor ${p.nextCursor}` : ''));
    });
}
