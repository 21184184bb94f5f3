// Sessions in the FSM: creation rules and errors, invalidation (destroy, TTL, node gone,
// check critical or removed) with both behaviours, reads, and the proposer's ID helper.
import { describe, expect, it } from 'vitest';
import { Harness, bytes } from './harness.ts';
import { newSessionId } from '../../core/catalog/commands.ts';
import { formatGoDuration, validateCommand } from '../../core/catalog/validate.ts';
import { makeRng } from '../../core/rng.ts';

describe('sessionCreate', () => {
  it('defaults: checks [serfHealth], release, 15 s lock-delay, no TTL', () => {
    const h = new Harness();
    h.node('n1');
    h.session('abc', 'n1');
    expect(h.fsm.sessionGet('abc')).toEqual({
      ID: 'abc',
      Name: '',
      Node: 'n1',
      Checks: ['serfHealth'],
      ServiceChecks: [],
      LockDelayMs: 15_000,
      Behavior: 'release',
      TTLMs: 0,
      CreateIndex: 2,
      ModifyIndex: 2,
    });
    expect(h.fsm.tableIndexes()).toMatchObject({ nodes: 1, checks: 1, sessions: 2, kvs: 0 });
  });

  it('the default serfHealth check must exist on the node', () => {
    const h = new Harness();
    h.ok({ op: 'register', node: { Node: 'n1', Address: 'a' } });
    expect(h.err({ op: 'sessionCreate', id: 's', node: 'n1' })).toBe("Missing check 'serfHealth' registration");
    expect(h.ok({ op: 'sessionCreate', id: 's', node: 'n1', checks: [] })).toBe(true);
    expect(h.fsm.sessionGet('s')!.Checks).toEqual([]);
  });

  it('a critical check refuses; warning is fine', () => {
    const h = new Harness();
    h.node('n1', 'critical');
    expect(h.err({ op: 'sessionCreate', id: 's', node: 'n1' })).toBe("Check 'serfHealth' is in critical state");
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'warning' });
    expect(h.ok({ op: 'sessionCreate', id: 's', node: 'n1' })).toBe(true);
    expect(h.fsm.sessionList()).toHaveLength(1);
  });

  it.each([
    [{ node: 'ghost' }, 'Missing node registration'],
    [{ node: '' }, 'Must provide Node'],
    [{ node: 'n1', behavior: 'explode' }, "Invalid Behavior setting 'explode'"],
    [{ node: 'n1', ttlMs: 5_000 }, "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"],
    [{ node: 'n1', ttlMs: 24 * 3_600_000 + 1 }, "Invalid Session TTL '86400001000000', must be between [10s=24h0m0s]"],
    [{ node: 'n1', id: '' }, 'Missing session ID'],
  ])('refuses %j with %s', (extra, msg) => {
    const h = new Harness();
    h.node('n1');
    expect(h.err({ op: 'sessionCreate', id: 'sid', ...extra } as never)).toBe(msg);
    expect(h.fsm.sessionList()).toEqual([]);
    expect(h.fsm.tableIndex('sessions')).toBe(0);
  });

  it('TTL bounds are inclusive; lock-delay is clamped to 60 s; duplicate IDs refused', () => {
    const h = new Harness();
    h.node('n1');
    h.session('a', 'n1', { ttlMs: 10_000, behavior: 'delete', name: 'lock', lockDelayMs: 120_000 });
    h.session('b', 'n1', { ttlMs: 24 * 3_600_000 });
    expect(h.fsm.sessionGet('a')).toMatchObject({ TTLMs: 10_000, Behavior: 'delete', Name: 'lock', LockDelayMs: 60_000 });
    expect(h.err({ op: 'sessionCreate', id: 'a', node: 'n1' })).toBe("Session 'a' already exists");
  });

  it('validateCommand gives proposers the same stateless errors before proposing', () => {
    expect(validateCommand({ op: 'sessionCreate', nowMs: 0, id: 'x', node: 'n1', ttlMs: 1 })).toEqual({
      ok: false,
      error: "Invalid Session TTL '1000000', must be between [10s=24h0m0s]",
    });
    expect(validateCommand({ op: 'frobnicate', nowMs: 0 })).toMatchObject({ ok: false, error: expect.stringContaining('unknown catalog command op "frobnicate"') });
    expect(validateCommand({ op: 'kvSet', key: 'k', value: bytes('') })).toMatchObject({ ok: false, error: expect.stringContaining("'nowMs'") });
  });
});

describe('session invalidation', () => {
  /** n1 with serfHealth and a service check; sessions r (release) and d (delete) on n1
   *  each holding two keys, and s2 on n2 holding one. */
  function setup(checksOf: string[] = ['serfHealth']): Harness {
    const h = new Harness();
    h.node('n1');
    h.node('n2');
    h.ok({
      op: 'register',
      node: { Node: 'n1', Address: '10.0.0.2' },
      service: { Service: 'web' },
      checks: [{ CheckID: 'service:web', Name: 'web', ServiceID: 'web', Status: 'passing' }],
    });
    h.session('r', 'n1', { checks: checksOf });
    h.session('d', 'n1', { checks: checksOf, behavior: 'delete' });
    h.session('s2', 'n2');
    for (const [k, s] of [['r/1', 'r'], ['r/2', 'r'], ['d/1', 'd'], ['d/2', 'd'], ['other', 's2']] as const) {
      h.ok({ op: 'kvLock', key: k, value: bytes(k), session: s });
    }
    return h;
  }

  function expectInvalidatedN1(h: Harness, index: number, releasedAt = index): void {
    expect(h.fsm.sessionList().map((s) => s.ID)).toEqual(['s2']);
    expect(h.fsm.kvGet('r/1')).toMatchObject({ Session: '', LockIndex: 1, ModifyIndex: releasedAt });
    expect(h.fsm.kvGet('r/2')).toMatchObject({ Session: '', LockIndex: 1 });
    expect(h.fsm.kvGet('d/1')).toBeUndefined();
    expect(h.fsm.kvGet('d/2')).toBeUndefined();
    expect(h.fsm.kvKeyIndex('d/1')).toBe(index);
    expect(h.fsm.kvGet('other')).toMatchObject({ Session: 's2' });
    expect(h.fsm.tableIndexes()).toMatchObject({ kvs: index, sessions: index });
    for (const k of ['r/1', 'd/2']) expect(h.fsm.lockDelayUntil(k)).toBe(h.nowMs + 15_000);
  }

  it('when the node is deregistered', () => {
    const h = setup();
    const r = h.apply({ op: 'deregister', node: 'n1' });
    expect(r).toEqual({ ok: true, value: true, invalidatedSessions: ['d', 'r'] });
    expectInvalidatedN1(h, h.index);
    expect(h.fsm.sessionsForNode('n1')).toEqual([]);
  });

  it('when serfHealth turns critical (updateCheckStatus)', () => {
    const h = setup();
    const r = h.apply({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'critical' });
    expect(r).toMatchObject({ ok: true, invalidatedSessions: ['d', 'r'] });
    expectInvalidatedN1(h, h.index);
  });

  it('when a listed check is re-registered critical', () => {
    const h = setup(['serfHealth', 'service:web']);
    h.ok({
      op: 'register',
      node: { Node: 'n1', Address: '10.0.0.2' },
      checks: [{ CheckID: 'service:web', Name: 'web', ServiceID: 'web', Status: 'critical' }],
    });
    expectInvalidatedN1(h, h.index);
  });

  it('a check the session does not list, or a warning, leaves it alone', () => {
    const h = setup(['serfHealth']);
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'service:web', status: 'critical' });
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'warning' });
    expect(h.fsm.sessionList().map((s) => s.ID)).toEqual(['d', 'r', 's2']);
    expect(h.fsm.kvGet('d/1')).toMatchObject({ Session: 'd' });
  });

  it('when a listed check is deregistered, or its service is', () => {
    const h = setup(['service:web']);
    h.ok({ op: 'deregister', node: 'n1', serviceId: 'web' });
    expectInvalidatedN1(h, h.index);
  });

  it('destroy and TTL invalidation act like the others; missing IDs are fine', () => {
    const h = setup();
    expect(h.apply({ op: 'sessionDestroy', id: 'r' })).toEqual({ ok: true, value: true, invalidatedSessions: ['r'] });
    expect(h.apply({ op: 'sessionInvalidate', id: 'd', reason: 'ttl' })).toEqual({ ok: true, value: true, invalidatedSessions: ['d'] });
    expectInvalidatedN1(h, h.index, h.index - 1);
    const before = h.fsm.tableIndexes();
    expect(h.apply({ op: 'sessionDestroy', id: 'gone' })).toEqual({ ok: true, value: true, invalidatedSessions: [] });
    expect(h.fsm.tableIndexes()).toEqual(before);
  });
});

describe('session reads', () => {
  it('list, per node and TTL sessions, sorted by ID', () => {
    const h = new Harness();
    h.node('n1');
    h.node('n2');
    h.session('c', 'n2', { ttlMs: 15_000 });
    h.session('a', 'n1');
    h.session('b', 'n1', { ttlMs: 30_000 });
    expect(h.fsm.sessionList().map((s) => s.ID)).toEqual(['a', 'b', 'c']);
    expect(h.fsm.sessionsForNode('n1').map((s) => s.ID)).toEqual(['a', 'b']);
    expect(h.fsm.ttlSessions().map((s) => [s.ID, s.TTLMs])).toEqual([
      ['b', 30_000],
      ['c', 15_000],
    ]);
    expect(h.fsm.indexFor({ kind: 'tables', tables: ['sessions'] })).toBe(5);
  });

  it('newSessionId is UUID-shaped and replays from the seed', () => {
    const a = newSessionId(makeRng('seed-1').fork('n1/session'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(newSessionId(makeRng('seed-1').fork('n1/session'))).toBe(a);
    expect(newSessionId(makeRng('seed-2').fork('n1/session'))).not.toBe(a);
  });
});

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1500, '1.5s'],
    [15_000, '15s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
    [86_400_000, '24h0m0s'],
  ])('%i ms → %s', (ms, want) => {
    expect(formatGoDuration(ms)).toBe(want);
  });
});
