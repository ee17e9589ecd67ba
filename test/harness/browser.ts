import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startReceiver, type Receiver } from './receiver';
import { startStack, type TestStack } from './stack';

/** Debian's headless Chromium (no browser download), and where tests keep screenshots. */

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // Flags for a closed network: no background calls to Google's services.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** test-artifacts/<subdir> (git-ignored), created on first use: for a person to look at. */
export function artifactsDir(subdir = ''): string {
  const dir = path.resolve(__dirname, '../../test-artifacts', subdir);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A browser test file's stack, loopback receiver and Chromium, started before its tests and
 * stopped after them. Read them as `env.stack`, `env.receiver` and `env.browser` inside tests.
 */
export function useBrowserStack(): { readonly stack: TestStack; readonly receiver: Receiver; readonly browser: Browser } {
  const env = {} as { stack: TestStack; receiver: Receiver; browser: Browser };
  beforeAll(async () => {
    [env.stack, env.receiver, env.browser] = await Promise.all([startStack(), startReceiver(), launchChromium()]);
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.stack?.stop();
    await env.receiver?.close();
  });
  return env;
}
