#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { HeraldNetworkError, HeraldProblemError } from '../client';
import { VERSION } from '../version';
import { eventsCommand } from './commands/events';
import { importCommand } from './commands/import';
import { keysCommand } from './commands/keys';
import { listenCommand } from './commands/listen';
import { portalCommand } from './commands/portal';
import { subscriptionsCommand } from './commands/subscriptions';
import { misplacedOption } from './misplaced-options';

/** `herald`: the command line, built on the client library. */

function program(): Command {
  return new Command('herald')
    .version(VERSION)
    .description('Herald from the command line: send and import events, manage subscriptions and keys, receive webhooks')
    .option('--url <url>', 'the API (env HERALD_URL; default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'the API key (env HERALD_API_KEY)')
    .option('--profile <name>', 'a profile of ~/.config/herald/config.json (env HERALD_PROFILE)')
    .option('--json', 'print JSON instead of tables')
    .addCommand(eventsCommand())
    .addCommand(subscriptionsCommand())
    .addCommand(keysCommand())
    .addCommand(importCommand())
    .addCommand(listenCommand())
    .addCommand(portalCommand())
    .exitOverride();
}

/** The error as a person reads it: the problem's title, detail and each invalid field. */
function explain(err: unknown): string {
  if (err instanceof HeraldProblemError) {
    const fields = (err.errors ?? []).map((e) => `\n  ${e.path}: ${e.message}`).join('');
    return `${err.message}${fields}`;
  }
  if (err instanceof HeraldNetworkError) return `cannot reach Herald: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

const refusal = misplacedOption(process.argv.slice(2));
if (refusal) {
  process.stderr.write(`herald: ${refusal}\n`);
  process.exitCode = 1; // as any other error, and Commander's own usage errors
} else {
  run();
}

function run(): void {
  program()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      // Commander has printed its own usage errors (and --help/--version) already.
      if (err instanceof CommanderError) {
        process.exitCode = err.exitCode;
        return;
      }
      process.stderr.write(`herald: ${explain(err)}\n`);
      process.exitCode = 1;
    });
}
