import path from 'node:path';
import * as api from '../harness/api';
import { artifactsDir, useBrowserStack } from '../harness/browser';
import { eventually, sharedServers } from '../harness/stack';

/**
 * The Temporal Web UI is one of Herald's user interfaces: deliveries are found there by
 * Herald's search attributes. Driven in Debian's headless Chromium; screenshots are kept
 * under test-artifacts/ for a person to look at.
 */

const ARTIFACTS = artifactsDir();
const env = useBrowserStack();

test('the Web UI lists workflows filtered by HeraldEventType and opens one', async () => {
  await api.subscribe(env.stack, env.receiver, '/ui', ['ui.*']);
  const shown = await api.send(env.stack, { type: 'ui.shown', data: { visible: true } });
  const hidden = await api.send(env.stack, { type: 'ui.hidden', data: {} });
  await api.finalEvent(env.stack, shown.id);
  await api.finalEvent(env.stack, hidden.id);
  // Visibility is eventually consistent: wait until Temporal's own list finds it.
  const query = `HeraldEventType="ui.shown"`;
  await eventually(
    async () => {
      for await (const w of env.stack.temporal.workflow.list({ query })) if (w.workflowId === shown.workflowId) return true;
      return false;
    },
    30_000,
    'visibility to index the workflow',
  );

  const page = await env.browser.newPage({ viewport: { width: 1400, height: 900 } });
  const ui = sharedServers().temporalUiUrl;
  await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
  const link = page.getByRole('link', { name: shown.workflowId });
  await link.waitFor({ timeout: 30_000 });
  expect(await page.getByText(hidden.workflowId).count()).toBe(0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-workflows-by-event-type.png'), fullPage: true });

  await link.click();
  await page.waitForURL(/\/workflows\/event%2Fdefault%2F|\/workflows\/event\/default\//, { timeout: 30_000 });
  await page.getByText('deliverEvent').first().waitFor({ timeout: 30_000 });
  await page.getByText('Completed').first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-event-workflow.png'), fullPage: true });
});
