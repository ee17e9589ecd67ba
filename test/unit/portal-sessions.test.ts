import {
  eventTypesAllowed,
  patternCovers,
  portalSessionCreateSchema,
  subscriptionInSession,
  tenantSettingsPatchSchema,
} from '../../src/domain/portal-sessions';
import { acceptedIds } from '../../src/api/ingest-log';
import { reachedOverHttps } from '../../src/api/portal-sessions';
import { newPortalCookie, newPortalLink, portalSessionIdOf } from '../../src/security/portal-tokens';

test('a pattern covers the patterns whose every type it matches too', () => {
  expect(patternCovers('*', 'order.created')).toBe(true);
  expect(patternCovers('*', 'order.*')).toBe(true);
  expect(patternCovers('*', '*')).toBe(true);
  // Herald's own types are opt-in: "*" does not match them, so it does not cover them.
  expect(patternCovers('*', 'herald.ping')).toBe(false);
  expect(patternCovers('*', 'herald.*')).toBe(false);
  expect(patternCovers('order.*', 'order')).toBe(true);
  expect(patternCovers('order.*', 'order.created')).toBe(true);
  expect(patternCovers('order.*', 'order.line.*')).toBe(true);
  expect(patternCovers('order.*', 'orders.created')).toBe(false);
  expect(patternCovers('order.*', '*')).toBe(false);
  expect(patternCovers('order.created', 'order.created')).toBe(true);
  expect(patternCovers('order.created', 'order.*')).toBe(false);
  expect(patternCovers('order.created', 'order.created.late')).toBe(false);
});

test("a subscription is a session's when its id is listed and its event types stay within the session's", () => {
  const sub = { _id: 'sub_1', eventTypes: ['order.created', 'order.paid'] };
  expect(subscriptionInSession({ subscriptionIds: ['sub_1'], readOnly: false }, sub)).toBe(true);
  expect(subscriptionInSession({ subscriptionIds: ['sub_2'], readOnly: false }, sub)).toBe(false);
  expect(subscriptionInSession({ eventTypes: ['order.*'], readOnly: false }, sub)).toBe(true);
  expect(subscriptionInSession({ eventTypes: ['order.created'], readOnly: false }, sub)).toBe(false);
  expect(subscriptionInSession({ eventTypes: ['order.*'], readOnly: false }, { _id: 'sub_3', eventTypes: ['*'] })).toBe(false);
  expect(subscriptionInSession({ subscriptionIds: ['sub_1'], eventTypes: ['invoice.*'], readOnly: false }, sub)).toBe(false);
});

test("a session may narrow its subscriptions' event types, never widen them past its own or theirs", () => {
  expect(eventTypesAllowed({ eventTypes: ['order.*'], readOnly: false }, ['order.created'], ['order.paid'])).toBe(true);
  expect(eventTypesAllowed({ eventTypes: ['order.*'], readOnly: false }, ['order.created'], ['*'])).toBe(false);
  expect(eventTypesAllowed({ subscriptionIds: ['sub_1'], readOnly: false }, ['order.*'], ['order.created'])).toBe(true);
  expect(eventTypesAllowed({ subscriptionIds: ['sub_1'], readOnly: false }, ['order.created'], ['order.*'])).toBe(false);
});

test('a portal session asks for some subscriptions and at most a day', () => {
  expect(portalSessionCreateSchema.safeParse({ expiresIn: 3600 }).success).toBe(false);
  expect(portalSessionCreateSchema.safeParse({ subscriptionIds: ['sub_1'], expiresIn: 86_401 }).success).toBe(false);
  expect(portalSessionCreateSchema.safeParse({ eventTypes: ['order.*'], expiresIn: 86_400, readOnly: true }).success).toBe(true);
  expect(portalSessionCreateSchema.safeParse({ eventTypes: ['Order!'], expiresIn: 60 }).success).toBe(false);
});

test('framing origins are origins and nothing that could end the CSP directive', () => {
  const parse = (o: string) => tenantSettingsPatchSchema.safeParse({ portalFrameAncestors: [o] });
  expect(parse('https://app.example.com').success).toBe(true);
  expect(parse('https://*.example.com').success).toBe(true);
  expect(parse('http://localhost:3000').success).toBe(true);
  expect(parse("https://a.com; script-src 'unsafe-inline'").success).toBe(false);
  expect(parse('https://a.com/path').success).toBe(false);
  expect(parse('*').success).toBe(false);
  expect(parse('javascript:alert(1)').success).toBe(false);
});

test("a link and its session's cookie name the same record, and neither passes for the other", () => {
  const link = newPortalLink();
  const cookie = newPortalCookie(link.id);
  expect(portalSessionIdOf(link.token, 'link')).toBe(link.id);
  expect(portalSessionIdOf(cookie.token, 'cookie')).toBe(link.id);
  expect(portalSessionIdOf(link.token, 'cookie')).toBeNull();
  expect(portalSessionIdOf(cookie.token, 'link')).toBeNull();
  expect(cookie.hash).not.toBe(link.hash);
});

test('the ingestion log links an answer to the events it accepted', () => {
  expect(acceptedIds({ id: 'evt_1', workflowId: 'w', duplicate: false })).toEqual(['evt_1']);
  expect(acceptedIds({ results: [{ id: 'a' }, { id: 'b', error: 'unavailable' }, { id: 'c', duplicate: true }] })).toEqual(['a', 'c']);
  expect(acceptedIds({ type: 't', title: 'Bad request', status: 400 })).toEqual([]);
  expect(acceptedIds('not json')).toEqual([]);
});

test('a request reached Herald over HTTPS when it came so, or a proxy says its client did', () => {
  const request = (secure: boolean, forwarded?: string) => ({ secure, get: () => forwarded }) as never;
  expect(reachedOverHttps(request(true))).toBe(true);
  expect(reachedOverHttps(request(false))).toBe(false);
  expect(reachedOverHttps(request(false, 'https'))).toBe(true);
  expect(reachedOverHttps(request(false, 'HTTPS'))).toBe(true);
  expect(reachedOverHttps(request(false, 'https, http'))).toBe(true);
  expect(reachedOverHttps(request(false, 'http'))).toBe(false);
  expect(reachedOverHttps(request(false, 'http, https'))).toBe(false);
});
