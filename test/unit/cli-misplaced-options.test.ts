import { misplacedOption } from '../../src/cli/misplaced-options';

describe('misplacedOption', () => {
  test.each([
    [['subscriptions', 'create', '--url', 'http://127.0.0.1:9000/hook']],
    [['subs', 'create', '--event-types', 'a.b', '--url=http://127.0.0.1:9000/hook']],
    [['--api-key', 'k', 'subscriptions', 'update', 'sub_1', '--url', 'x']],
  ])('refuses --url after a subscription create or update: %j', (args) => {
    expect(misplacedOption(args)).toMatch(/Did you mean --webhook\?/);
  });

  test.each([
    [['--url', 'http://127.0.0.1:8080', 'subscriptions', 'create', '--webhook', 'http://127.0.0.1:9000/hook']],
    [['events', 'list', '--url', 'http://127.0.0.1:8080']],
    [['subscriptions', 'list', '--url', 'http://127.0.0.1:8080']],
    [['subscriptions', 'create', '--webhook', 'x', '--', '--url']],
  ])("leaves the program's --url where it names the API: %j", (args) => {
    expect(misplacedOption(args)).toBeUndefined();
  });
});
