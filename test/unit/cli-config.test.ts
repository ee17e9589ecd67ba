import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configPath, DEFAULT_URL, resolveConnection } from '../../src/cli/config';
import { importIds } from '../../src/cli/import/importer';

describe('where the CLI finds the API and its key', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-config-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({ profiles: { default: { url: 'http://127.0.0.1:1', apiKey: 'from-default' }, ci: { apiKey: 'from-ci' } } }),
  );
  const env = { HERALD_CONFIG: file };

  test('flags win over the environment, which wins over the profile', () => {
    expect(resolveConnection({ url: 'http://flag', apiKey: 'flag' }, { ...env, HERALD_URL: 'http://env', HERALD_API_KEY: 'env' })).toEqual({
      url: 'http://flag',
      apiKey: 'flag',
    });
    expect(resolveConnection({}, { ...env, HERALD_URL: 'http://env', HERALD_API_KEY: 'env' })).toEqual({
      url: 'http://env',
      apiKey: 'env',
    });
    expect(resolveConnection({}, env)).toEqual({ url: 'http://127.0.0.1:1', apiKey: 'from-default' });
  });

  test('a variable set blank counts as unset: the profile decides', () => {
    const blank = { ...env, HERALD_URL: '', HERALD_API_KEY: ' ', HERALD_PROFILE: '' };
    expect(resolveConnection({}, blank)).toEqual({ url: 'http://127.0.0.1:1', apiKey: 'from-default' });
  });

  test('--profile or HERALD_PROFILE picks a profile; a profile without url gets the default', () => {
    expect(resolveConnection({ profile: 'ci' }, env)).toEqual({ url: DEFAULT_URL, apiKey: 'from-ci' });
    expect(resolveConnection({}, { ...env, HERALD_PROFILE: 'ci' })).toEqual({ url: DEFAULT_URL, apiKey: 'from-ci' });
    expect(() => resolveConnection({ profile: 'prod' }, env)).toThrow(/no profile "prod"/);
  });

  test('no key anywhere is an error that says where to put one; a missing file is not', () => {
    expect(() => resolveConnection({}, { HERALD_CONFIG: path.join(dir, 'none.json') })).toThrow(/no API key/);
  });

  test('with the URL and the key given, a broken file or a stale HERALD_PROFILE stops nothing; otherwise the error names the file', () => {
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{"profiles": {"default": {"url": "http://x", "name": "extra"}},');
    const given = { url: 'http://flag', apiKey: 'flag' };
    expect(resolveConnection(given, { HERALD_CONFIG: broken })).toEqual(given);
    expect(
      resolveConnection({}, { HERALD_CONFIG: broken, HERALD_URL: 'http://env', HERALD_API_KEY: 'env', HERALD_PROFILE: 'gone' }),
    ).toEqual({
      url: 'http://env',
      apiKey: 'env',
    });
    expect(() => resolveConnection({ apiKey: 'flag' }, { HERALD_CONFIG: broken })).toThrow(`${broken} is not valid JSON`);
    expect(() => resolveConnection({ ...given, profile: 'ci' }, { HERALD_CONFIG: broken })).toThrow(`${broken} is not valid JSON`);
  });

  test('the file is found under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/herald/config.json');
    expect(configPath({})).toBe(path.join(os.homedir(), '.config/herald/config.json'));
  });
});

describe('import ids', () => {
  test('an event without id gets one from its file, its text and how often that text came before: the same on every run, whatever other lines change', () => {
    const [a, b, bad] = ['{"type": "a.b", "data": {"n": 1}}', '{"type": "a.b", "data": {"n": 2}}', '{"type": "a.b", "data": '];
    const ids = (lines: string[], file = '/data/events.ndjson') => lines.map(importIds(file));
    const [idA, idB, idA2] = ids([a, b, a]);
    expect(idA).toMatch(/^imp_[0-9a-f]{32}$/);
    expect(new Set([idA, idB, idA2]).size).toBe(3); // identical lines stay distinct events
    expect(ids([a, b, a])).toEqual([idA, idB, idA2]);
    // A bad line fixed, removed or added elsewhere leaves the others' ids as they were.
    expect(ids([bad, a, b, a]).slice(1)).toEqual([idA, idB, idA2]);
    expect(ids([b, a, a])).toEqual([idB, idA, idA2]);
    expect(ids([`${a} `])).not.toEqual([idA]);
    // The same line in another file is another event, also in a file of the same name elsewhere.
    expect(ids([a], '/data/other.ndjson')).not.toEqual([idA]);
    expect(ids([a], '/data/2026-02/events.ndjson')).not.toEqual([idA]);
  });
});
