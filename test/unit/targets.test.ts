import { classifyAddress, classifyUrlHost, hostOf, type AddressVerdict } from '../../src/domain/targets';

/**
 * Pure functions only: nothing here resolves a name or opens a connection. A URL object is
 * parsed locally by WHATWG URL, which is also what normalises the alternative spellings.
 */

function refusedReason(verdict: AddressVerdict): string {
  if (verdict.allowed) throw new Error('expected the target to be refused, but it was allowed');
  return verdict.reason;
}

describe('classifyAddress', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
  ])('refuses %s (%s)', (address, range) => {
    expect(refusedReason(classifyAddress(address))).toContain(`(${range})`);
  });

  test('refuses the cloud metadata address 169.254.169.254 as link-local', () => {
    expect(refusedReason(classifyAddress('169.254.169.254'))).toBe('address 169.254.169.254 is in a refused range (linkLocal)');
  });

  test.each([
    ['::ffff:127.0.0.1', '127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', '10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', '169.254.169.254', 'linkLocal'],
    ['::ffff:7f00:1', '127.0.0.1', 'loopback'],
  ])('refuses the IPv4-mapped %s as the IPv4 address it maps to', (address, v4, range) => {
    expect(refusedReason(classifyAddress(address))).toBe(`address ${v4} is in a refused range (${range})`);
  });

  test.each(['192.0.2.1', '198.18.0.1', '240.0.0.1', '2001:db8::1', '64:ff9b::7f00:1', '2002:7f00:1::'])(
    'refuses the special-purpose address %s',
    (address) => {
      expect(classifyAddress(address).allowed).toBe(false);
    },
  );

  test.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the globally routable unicast address %s',
    (address) => {
      expect(classifyAddress(address)).toEqual({ allowed: true });
    },
  );

  test.each(['example.com', '', 'localhost', '999.1.1.1', '1.2.3.4.5', 'fe80::1::2'])('refuses %p as not an IP address', (text) => {
    expect(refusedReason(classifyAddress(text))).toBe(`"${text}" is not an IP address`);
  });
});

describe('hostOf', () => {
  test('removes IPv6 brackets, trailing dots and case', () => {
    expect(hostOf(new URL('http://[::1]:8080/'))).toBe('::1');
    expect(hostOf(new URL('http://Example.COM./x'))).toBe('example.com');
    expect(hostOf(new URL('http://localhost../'))).toBe('localhost');
  });
});

describe('classifyUrlHost', () => {
  test.each([
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0x7f.1/',
    'http://[::ffff:7f00:1]/',
    'http://user:pass@127.0.0.1/',
  ])('refuses the loopback spelling %s', (url) => {
    expect(refusedReason(classifyUrlHost(new URL(url)))).toBe('address 127.0.0.1 is in a refused range (loopback)');
  });

  test('refuses the IPv4-compatible IPv6 spelling of loopback http://[::127.0.0.1]/', () => {
    expect(refusedReason(classifyUrlHost(new URL('http://[::127.0.0.1]/')))).toContain('IPv4-compatible');
  });

  test('refuses the IPv6 loopback literal http://[::1]/', () => {
    expect(refusedReason(classifyUrlHost(new URL('http://[::1]/')))).toBe('address ::1 is in a refused range (loopback)');
  });

  test.each([
    ['http://localhost/', 'localhost'],
    ['http://localhost./', 'localhost'],
    ['http://LOCALHOST:8080/', 'localhost'],
    ['http://api.localhost/', 'api.localhost'],
    ['http://a.b.localhost./x', 'a.b.localhost'],
  ])('refuses %s by name, without resolving it', (url, host) => {
    expect(refusedReason(classifyUrlHost(new URL(url)))).toBe(`host "${host}" is loopback`);
  });

  test('refuses the cloud metadata endpoint written with a trailing dot', () => {
    expect(refusedReason(classifyUrlHost(new URL('http://169.254.169.254./latest/meta-data')))).toBe(
      'address 169.254.169.254 is in a refused range (linkLocal)',
    );
  });

  test('refuses the AWS IPv6 metadata endpoint http://[fd00:ec2::254]/', () => {
    expect(refusedReason(classifyUrlHost(new URL('http://[fd00:ec2::254]/')))).toContain('(uniqueLocal)');
  });

  test('refuses private and unspecified literals in URLs', () => {
    expect(refusedReason(classifyUrlHost(new URL('https://10.0.0.1:8443/hook')))).toContain('(private)');
    expect(refusedReason(classifyUrlHost(new URL('http://0/')))).toContain('(unspecified)');
  });

  test.each([
    'http://example.com/',
    'https://93.184.216.34/',
    'https://hooks.example.org:8443/path?q=1',
    'http://localhost.example.com/',
    'http://mylocalhost/',
  ])('allows %s', (url) => {
    expect(classifyUrlHost(new URL(url))).toEqual({ allowed: true });
  });
});

describe('hostile spellings of refused targets', () => {
  // The WHATWG URL parser, as the API and the worker use it, turns every IPv4 spelling into
  // dotted decimal before the classifier sees it; these pin that the combination holds.
  test.each([
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://0x7f.0.0.1/',
    'http://127.1/',
    'http://0/',
    'http://127.0.0.1./',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    'http://[::127.0.0.1]/',
    'http://0251.0376.0251.0376/',
    'http://169.254.169.254./latest/meta-data/',
    'http://evil.example@10.0.0.1/',
    'http://LOCALHOST./',
    'http://api.localhost/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://[fe80::1]/',
    'http://[fd12:3456::1]/',
    'http://100.64.0.1/',
  ])('%s is refused', (url) => {
    expect(classifyUrlHost(new URL(url)).allowed).toBe(false);
  });

  test('public names and addresses pass the URL check (names are checked again at connect time)', () => {
    expect(classifyUrlHost(new URL('https://hooks.example.com/x')).allowed).toBe(true);
    expect(classifyUrlHost(new URL('http://93.184.216.34/')).allowed).toBe(true);
  });
});
