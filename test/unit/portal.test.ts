import { can, isLimitedKey, workflowUrl } from '../../portal/src/me';
import { query } from '../../portal/src/query';
import type { Me } from '../../portal/src/types';

const me = (scopes: Me['scopes'], admin = false): Me => ({
  keyId: 'key_1',
  tenant: 'acme',
  scopes,
  admin,
  temporal: { uiUrl: 'http://127.0.0.1:8233', namespace: 'default' },
});

describe("the portal's view of a key", () => {
  test('a key may do what its scopes say; the admin key may do everything', () => {
    expect(can(me(['events:read']), 'events:read')).toBe(true);
    expect(can(me(['events:read']), 'events:write')).toBe(false);
    expect(can(me(['events:read']), 'subscriptions:write')).toBe(false);
    expect(can(me([], true), 'subscriptions:write')).toBe(true);
  });

  test('a key limited to resources reads events but gets no subscription pages (their health is refused it)', () => {
    const limited: Me = { ...me(['events:read', 'subscriptions:read', 'subscriptions:write']), subjects: [{ type: 'package' }] };
    expect(isLimitedKey(limited)).toBe(true);
    expect(isLimitedKey(me(['events:read']))).toBe(false);
    expect(can(limited, 'events:read')).toBe(true);
    expect(can(limited, 'subscriptions:read')).toBe(false);
    expect(can({ ...me(['subscriptions:write']), eventTypes: ['deploy.*'] }, 'subscriptions:write')).toBe(false);
  });

  test('workflow links escape the workflow id, whose slashes are part of it', () => {
    expect(workflowUrl(me([]), 'event/acme/evt_1/replay/2')).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows/event%2Facme%2Fevt_1%2Freplay%2F2',
    );
  });

  test('list queries carry only the filters that are set', () => {
    expect(query({ type: 'order.*', actor: '', status: undefined, limit: 50 })).toBe('?type=order.*&limit=50');
    expect(query({ actor: '' })).toBe('');
    expect(query({ subjectId: 'a b&c' })).toBe('?subjectId=a+b%26c');
  });
});
