import type { ChildProcess } from 'node:child_process';

export default async function globalTeardown(): Promise<void> {
  const shared = globalThis as { heraldServers?: ChildProcess[]; heraldCleanup?: () => void };
  const servers = shared.heraldServers ?? [];
  await Promise.all(
    servers.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
  shared.heraldCleanup?.(); // after the store has stopped using it
}
