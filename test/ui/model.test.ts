// test/ui/model.test.ts — the UI's pure rules: blocking-query index handling and back-off,
// hash routes, KV value decoding and key paths, health summaries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffMs, isNoLeader, MIN_LOOP_GAP_MS, nextIndex, pauseAfterSuccessMs, POLL_WITHOUT_INDEX_MS, withIndex } from '../../ui/model/blocking.ts';
import { countByHealth, instanceAddress, memberStatusName, worstStatus, type HealthInstance } from '../../ui/model/health.ts';
import { decodeValue, kvPath, newKeyPath, parentPrefix, relativeKey } from '../../ui/model/kv.ts';
import { href, parseRoute, type Route } from '../../ui/model/route.ts';

describe('blocking-query rules', () => {
  it('follows the index forward, resets when it goes backwards or is invalid', () => {
    expect(nextIndex(0, '17')).toBe(17);
    expect(nextIndex(17, '17')).toBe(17);
    expect(nextIndex(17, '42')).toBe(42);
    expect(nextIndex(42, '5')).toBe(0);
    for (const bad of [null, '', '0', '-3', 'abc', '1.5', '99999999999999999999']) expect(nextIndex(10, bad), String(bad)).toBe(0);
  });

  it('never spins: polls without an index, spaces out quick repeats, goes at once on progress', () => {
    expect(pauseAfterSuccessMs(5, 0, 3)).toBe(POLL_WITHOUT_INDEX_MS);
    expect(pauseAfterSuccessMs(5, 5, 10)).toBe(MIN_LOOP_GAP_MS - 10);
    expect(pauseAfterSuccessMs(5, 5, 60_000)).toBe(0);
    expect(pauseAfterSuccessMs(5, 6, 1)).toBe(0);
  });

  it('backs off by doubling up to a cap', () => {
    const seq = [1, 2, 3, 4, 5, 6, 50, 5000].map(backoffMs);
    expect(seq.slice(0, 4)).toEqual([250, 500, 1000, 2000]);
    expect(seq.slice(4)).toEqual([3000, 3000, 3000, 3000]);
    expect(backoffMs(0)).toBe(0);
  });

  it('recognises "No cluster leader" only as a 500', () => {
    expect(isNoLeader(500, 'No cluster leader')).toBe(true);
    expect(isNoLeader(500, 'rpc error: No cluster leader')).toBe(true);
    expect(isNoLeader(404, 'No cluster leader')).toBe(false);
    expect(isNoLeader(500, 'Permission denied')).toBe(false);
  });

  it('appends index and wait to paths with and without a query', () => {
    expect(withIndex('/v1/catalog/services', 0)).toBe('/v1/catalog/services');
    expect(withIndex('/v1/catalog/services', 9)).toBe('/v1/catalog/services?index=9&wait=60s');
    expect(withIndex('/v1/kv/a/?keys&separator=/', 3, '5s')).toBe('/v1/kv/a/?keys&separator=/&index=3&wait=5s');
  });
});

describe('routes', () => {
  it('parses the pages', () => {
    expect(parseRoute('')).toEqual({ page: 'services' });
    expect(parseRoute('#/')).toEqual({ page: 'services' });
    expect(parseRoute('#/services/web3')).toEqual({ page: 'service', name: 'web3' });
    expect(parseRoute('#/nodes')).toEqual({ page: 'nodes' });
    expect(parseRoute('#/nodes/n2')).toEqual({ page: 'node', name: 'n2' });
    expect(parseRoute('#/raft')).toEqual({ page: 'raft' });
    expect(parseRoute('#/kv/')).toEqual({ page: 'kv', path: '' });
    expect(parseRoute('#/kv/web/a%20b')).toEqual({ page: 'kv', path: 'web/a b' });
    expect(parseRoute('#/bogus')).toEqual({ page: 'notFound', hash: '#/bogus' });
    expect(parseRoute('#/services/a/b')).toEqual({ page: 'notFound', hash: '#/services/a/b' });
    expect(parseRoute('#/kv/%E0%A4%A')).toEqual({ page: 'notFound', hash: '#/kv/%E0%A4%A' });
  });

  it('href and parseRoute round-trip any service, node and KV path', () => {
    const name = fc.string({ minLength: 1 }).filter((s) => !s.includes('/'));
    const route: fc.Arbitrary<Route> = fc.oneof(
      name.map((n) => ({ page: 'service' as const, name: n })),
      name.map((n) => ({ page: 'node' as const, name: n })),
      fc.string().map((p) => ({ page: 'kv' as const, path: p })),
    );
    fc.assert(
      fc.property(route, (r) => {
        expect(parseRoute(href(r))).toEqual(r);
      }),
    );
  });
});

describe('KV helpers', () => {
  const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
  it('decodes UTF-8 values and marks binary ones', () => {
    expect(decodeValue(null)).toEqual({ text: '', binary: false, bytes: 0 });
    expect(decodeValue(b64('port=10000'))).toEqual({ text: 'port=10000', binary: false, bytes: 10 });
    expect(decodeValue(b64('héllo ✓'))).toEqual({ text: 'héllo ✓', binary: false, bytes: 10 });
    expect(decodeValue(b64(new Uint8Array([0xff, 0x00, 0x10])))).toEqual({ text: 'ff 00 10', binary: true, bytes: 3 });
  });

  it('decodes whatever UTF-8 text was stored', () => {
    fc.assert(
      fc.property(fc
          .array(fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff), { maxLength: 32 })
          .map((cps) => String.fromCodePoint(...cps)), (s) => {
        expect(decodeValue(b64(s)).text).toBe(Buffer.from(s).toString());
      }),
    );
  });

  it('builds API paths and folder arithmetic', () => {
    expect(kvPath('web/a b?c')).toBe('/v1/kv/web/a%20b%3Fc');
    expect(kvPath('')).toBe('/v1/kv/');
    expect(parentPrefix('a/b/c')).toBe('a/b/');
    expect(parentPrefix('a/b/')).toBe('a/');
    expect(parentPrefix('a')).toBe('');
    expect(relativeKey('web/', 'web/config')).toBe('config');
    expect(newKeyPath('web/', ' /x/y ')).toBe('web/x/y');
  });
});

describe('health summaries', () => {
  const inst = (node: string, ...statuses: string[]): HealthInstance => ({
    Node: { Node: node, Address: '10.0.0.1' },
    Service: { ID: 'web3', Service: 'web3', Tags: null, Address: '', Port: 10000 },
    Checks: statuses.map((s, i) => ({ Node: node, CheckID: `c${i}`, Name: '', Status: s, Notes: '', Output: '', ServiceID: '', ServiceName: '' })),
  });

  it('the worst check wins; unknown statuses count as critical; no checks is passing', () => {
    expect(worstStatus([])).toBe('passing');
    expect(worstStatus(['passing', 'warning'])).toBe('warning');
    expect(worstStatus(['warning', 'critical', 'passing'])).toBe('critical');
    expect(worstStatus(['maintenance'])).toBe('critical');
  });

  it('counts instances by health', () => {
    expect(countByHealth([inst('n2', 'passing', 'passing'), inst('n3', 'passing', 'critical'), inst('n4'), inst('n5', 'warning')])).toEqual({
      passing: 2,
      warning: 1,
      critical: 1,
    });
  });

  it('addresses and member statuses', () => {
    expect(instanceAddress(inst('n2'))).toBe('10.0.0.1:10000');
    expect(memberStatusName(1)).toBe('alive');
    expect(memberStatusName(3)).toBe('left');
    expect(memberStatusName(4)).toBe('failed');
    expect(memberStatusName(9)).toBe('unknown (9)');
  });
});
