import { Command } from 'commander';
import { listen, listeningUrl, type Received } from '../listen';
import { outputOf, parse } from '../context';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function describe(r: Received): string {
  const events = Array.isArray(r.body) ? r.body : [r.body];
  const forwarded = r.forwarded === undefined ? '' : ` -> ${r.forwarded}`;
  return events.map((e) => `${new Date().toISOString()}  ${r.webhookId}  ${e.type}  ${e.id}${forwarded}`).join('\n');
}

export function listenCommand(): Command {
  return new Command('listen')
    .description('receive webhooks on loopback, verify and print them, and optionally forward them')
    .requiredOption('--secret <whsec>', "the subscription's signing secret (repeat during a rotation)", collect)
    .option('--port <port>', 'port to listen on (0: any free one)', parse.integer, 9000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--forward <url>', 'pass each verified delivery on to this URL')
    .option('--tolerance <seconds>', 'allowed clock difference', parse.integer)
    .action(async (opts: { secret: string[]; port: number; host: string; forward?: string; tolerance?: number }, command: Command) => {
      const { json } = outputOf(command);
      const server = await listen(
        {
          secrets: opts.secret,
          host: opts.host,
          port: opts.port,
          ...(opts.forward && { forward: opts.forward }),
          ...(opts.tolerance !== undefined && { tolerance: opts.tolerance }),
        },
        (r) => process.stdout.write(`${json ? JSON.stringify(r) : describe(r)}\n`),
        (reason) => process.stderr.write(`rejected: ${reason}\n`),
      );
      process.stderr.write(`listening on ${listeningUrl(server)}${opts.forward ? `, forwarding to ${opts.forward}` : ''}\n`);
      const stop = () => server.close(() => process.exit(0));
      process.once('SIGINT', stop).once('SIGTERM', stop);
    });
}
