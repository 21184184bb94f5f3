// KV part of the FSM: set/flags, check-and-set, delete (cas, recurse), keys with a
// separator, locks and lock-delay, per-key/prefix indexes with tombstones.
import { describe, expect, it } from 'vitest';
import { Harness, bytes, text } from './harness.ts';
import { KV_VALUE_MAX_BYTES } from '../../core/catalog/commands.ts';

const put = (h: Harness, key: string, v = 'x', flags?: number) => h.ok({ op: 'kvSet', key, value: bytes(v), flags });

describe('kvSet', () => {
  it('creates then overwrites, keeping CreateIndex', () => {
    const h = new Harness();
    expect(put(h, 'zip', 'test', 42)).toBe(true);
    expect(h.fsm.kvGet('zip')).toEqual({ CreateIndex: 1, ModifyIndex: 1, LockIndex: 0, Key: 'zip', Flags: '42', Value: bytes('test'), Session: '' });
    put(h, 'zip', 'two');
    const e = h.fsm.kvGet('zip')!;
    expect([e.CreateIndex, e.ModifyIndex, e.Flags, text(e.Value)]).toEqual([1, 2, '0', 'two']);
    expect(h.fsm.tableIndexes()).toEqual({ nodes: 0, services: 0, checks: 0, kvs: 2, sessions: 0 });
  });

  it('stores a private copy of the bytes', () => {
    const h = new Harness();
    const buf = bytes('abc');
    h.ok({ op: 'kvSet', key: 'k', value: buf });
    buf[0] = 0x7a;
    expect(text(h.fsm.kvGet('k')!.Value)).toBe('abc');
  });

  it('refuses an empty key, an oversize value and unsafe flags', () => {
    const h = new Harness();
    expect(h.err({ op: 'kvSet', key: '', value: bytes('v') })).toBe('Missing key name');
    expect(h.err({ op: 'kvSet', key: 'k', value: new Uint8Array(KV_VALUE_MAX_BYTES + 1) })).toBe('Value exceeds 524288 byte limit');
    expect(h.err({ op: 'kvSet', key: 'k', value: bytes('v'), flags: 2 ** 60 })).toContain("field 'flags' must be a uint64");
    expect(h.err({ op: 'kvSet', key: 'k', value: bytes('v'), flags: '18446744073709551616' })).toContain("field 'flags' must be a uint64");
    expect(h.err({ op: 'kvSet', key: 'k', value: bytes('v'), flags: '007' })).toContain("field 'flags' must be a uint64");
    expect(h.ok({ op: 'kvSet', key: 'k', value: new Uint8Array(KV_VALUE_MAX_BYTES) })).toBe(true);
  });
});

describe('kvCas', () => {
  it('index 0 creates only', () => {
    const h = new Harness();
    expect(h.ok({ op: 'kvCas', key: 'k', value: bytes('a'), casIndex: 0 })).toBe(true);
    expect(h.ok({ op: 'kvCas', key: 'k', value: bytes('b'), casIndex: 0 })).toBe(false);
    expect(text(h.fsm.kvGet('k')!.Value)).toBe('a');
    expect(h.fsm.tableIndex('kvs')).toBe(1);
  });

  it('a mismatched index is false, a matching one writes', () => {
    const h = new Harness();
    put(h, 'k', 'a');
    put(h, 'k', 'b'); // ModifyIndex 2
    expect(h.ok({ op: 'kvCas', key: 'k', value: bytes('c'), casIndex: 1 })).toBe(false);
    expect(h.ok({ op: 'kvCas', key: 'k', value: bytes('c'), casIndex: 2, flags: 7 })).toBe(true);
    expect(h.fsm.kvGet('k')).toMatchObject({ ModifyIndex: 4, Flags: '7', CreateIndex: 1 });
    expect(h.ok({ op: 'kvCas', key: 'missing', value: bytes('c'), casIndex: 5 })).toBe(false);
    expect(h.fsm.kvGet('missing')).toBeUndefined();
  });
});

describe('kvDelete', () => {
  it('plain delete is true even for a missing key, and bumps only on a real delete', () => {
    const h = new Harness();
    put(h, 'k');
    expect(h.ok({ op: 'kvDelete', key: 'ghost' })).toBe(true);
    expect(h.fsm.tableIndex('kvs')).toBe(1);
    expect(h.ok({ op: 'kvDelete', key: 'k' })).toBe(true);
    expect(h.fsm.kvGet('k')).toBeUndefined();
    expect(h.fsm.tableIndex('kvs')).toBe(3);
  });

  it('cas: mismatch false, match true, missing key true', () => {
    const h = new Harness();
    put(h, 'k');
    expect(h.ok({ op: 'kvDelete', key: 'k', casIndex: 9 })).toBe(false);
    expect(h.fsm.kvGet('k')).toBeDefined();
    expect(h.ok({ op: 'kvDelete', key: 'k', casIndex: 1 })).toBe(true);
    expect(h.fsm.kvGet('k')).toBeUndefined();
    expect(h.ok({ op: 'kvDelete', key: 'k', casIndex: 1 })).toBe(true);
  });

  it('recurse deletes the prefix only; kvDeleteTree with "" deletes everything', () => {
    const h = new Harness();
    for (const k of ['web/a', 'web/b/c', 'webby', 'db/x']) put(h, k);
    h.ok({ op: 'kvDelete', key: 'web/', recurse: true });
    expect(h.fsm.kvList('').map((e) => e.Key)).toEqual(['db/x', 'webby']);
    h.ok({ op: 'kvDeleteTree', prefix: '' });
    expect(h.fsm.kvList('')).toEqual([]);
  });

  it('needs a key unless recursing', () => {
    const h = new Harness();
    expect(h.err({ op: 'kvDelete', key: '' })).toBe('Missing key name');
    expect(h.err({ op: 'kvDelete', key: '', casIndex: 0 })).toBe('Missing key name');
    expect(h.ok({ op: 'kvDelete', key: '', recurse: true })).toBe(true);
  });
});

describe('kv reads', () => {
  it('keys with a separator, as in Consul’s docs', () => {
    const h = new Harness();
    for (const k of ['/web/foo', '/web/bar', '/web/subdir/a', '/web/subdir/b/c', '/webx', '/db']) put(h, k);
    expect(h.fsm.kvKeys('/web/', '/')).toEqual(['/web/bar', '/web/foo', '/web/subdir/']);
    expect(h.fsm.kvKeys('/web/')).toEqual(['/web/bar', '/web/foo', '/web/subdir/a', '/web/subdir/b/c']);
    expect(h.fsm.kvKeys('', '/')).toEqual(['/']);
    expect(h.fsm.kvKeys('/web', '/')).toEqual(['/web/', '/webx']);
    expect(h.fsm.kvKeys('/nothing/', '/')).toEqual([]);
  });

  it('a key that sorts between members of a folder does not split it', () => {
    const h = new Harness();
    for (const k of ['a/sub/x', 'a/sub-y', 'a/sub/z']) put(h, k);
    expect(h.fsm.kvKeys('a/', '/')).toEqual(['a/sub-y', 'a/sub/']);
    expect(h.fsm.kvKeys('a/', '-')).toEqual(['a/sub-', 'a/sub/x', 'a/sub/z']);
  });

  it('kvList is key-ordered and prefix-bounded', () => {
    const h = new Harness();
    for (const k of ['b', 'a/2', 'a/1', 'a', 'ab']) put(h, k);
    expect(h.fsm.kvList('a').map((e) => e.Key)).toEqual(['a', 'a/1', 'a/2', 'ab']);
    expect(h.fsm.kvList('a/').map((e) => e.Key)).toEqual(['a/1', 'a/2']);
  });
});

describe('locks', () => {
  function withSessions(): Harness {
    const h = new Harness();
    h.node('n1');
    h.session('s1', 'n1');
    h.session('s2', 'n1');
    return h;
  }

  it('an unknown session is Consul’s error', () => {
    const h = withSessions();
    expect(h.err({ op: 'kvLock', key: 'k', value: bytes(''), session: 'nope' })).toBe('invalid session "nope"');
    expect(h.err({ op: 'kvLock', key: 'k', value: bytes(''), session: '' })).toBe('Missing session');
    expect(h.fsm.kvGet('k')).toBeUndefined();
  });

  it('acquire, re-acquire, contend, release, re-acquire', () => {
    const h = withSessions();
    expect(h.ok({ op: 'kvLock', key: 'lead', value: bytes('n1'), session: 's1' })).toBe(true);
    expect(h.fsm.kvGet('lead')).toMatchObject({ LockIndex: 1, Session: 's1', CreateIndex: 4, ModifyIndex: 4 });
    expect(h.ok({ op: 'kvLock', key: 'lead', value: bytes('n1b'), session: 's1' })).toBe(true);
    expect(h.fsm.kvGet('lead')).toMatchObject({ LockIndex: 1, Session: 's1', ModifyIndex: 5 });
    expect(text(h.fsm.kvGet('lead')!.Value)).toBe('n1b');
    expect(h.ok({ op: 'kvLock', key: 'lead', value: bytes('n2'), session: 's2' })).toBe(false);
    expect(h.ok({ op: 'kvUnlock', key: 'lead', value: bytes('n2'), session: 's2' })).toBe(false);
    expect(h.fsm.kvGet('lead')).toMatchObject({ Session: 's1', ModifyIndex: 5 });
    expect(h.ok({ op: 'kvUnlock', key: 'lead', value: bytes(''), session: 's1' })).toBe(true);
    expect(h.fsm.kvGet('lead')).toMatchObject({ LockIndex: 1, Session: '', ModifyIndex: 8 });
    expect(h.ok({ op: 'kvLock', key: 'lead', value: bytes('n2'), session: 's2' })).toBe(true);
    expect(h.fsm.kvGet('lead')).toMatchObject({ LockIndex: 2, Session: 's2' });
  });

  it('releasing a key that does not exist is false', () => {
    const h = withSessions();
    expect(h.ok({ op: 'kvUnlock', key: 'none', value: bytes(''), session: 's1' })).toBe(false);
    expect(h.fsm.tableIndex('kvs')).toBe(0);
  });

  it('a plain set or cas on a held key keeps the lock', () => {
    const h = withSessions();
    h.ok({ op: 'kvLock', key: 'k', value: bytes('a'), session: 's1' });
    put(h, 'k', 'b');
    expect(h.fsm.kvGet('k')).toMatchObject({ Session: 's1', LockIndex: 1 });
    h.ok({ op: 'kvCas', key: 'k', value: bytes('c'), casIndex: h.index });
    expect(h.fsm.kvGet('k')).toMatchObject({ Session: 's1', LockIndex: 1 });
  });

  it('lock-delay after invalidation blocks re-acquire until it ends; explicit release does not', () => {
    const h = withSessions();
    h.nowMs = 100_000;
    h.ok({ op: 'kvLock', key: 'k', value: bytes('a'), session: 's1' });
    h.ok({ op: 'kvLock', key: 'j', value: bytes('a'), session: 's1' });
    h.ok({ op: 'kvUnlock', key: 'j', value: bytes('a'), session: 's1' });
    h.ok({ op: 'sessionDestroy', id: 's1' });
    expect(h.fsm.kvGet('k')).toMatchObject({ Session: '', LockIndex: 1 });
    expect(h.fsm.lockDelayUntil('k')).toBe(115_000);
    expect(h.fsm.lockDelayUntil('j')).toBeUndefined();
    expect(h.ok({ op: 'kvLock', key: 'j', value: bytes('b'), session: 's2' })).toBe(true);
    expect(h.ok({ op: 'kvLock', key: 'k', value: bytes('b'), session: 's2', nowMs: 114_999 })).toBe(false);
    expect(h.fsm.kvGet('k')).toMatchObject({ Session: '', LockIndex: 1 });
    expect(h.ok({ op: 'kvLock', key: 'k', value: bytes('b'), session: 's2', nowMs: 115_000 })).toBe(true);
    expect(h.fsm.kvGet('k')).toMatchObject({ Session: 's2', LockIndex: 2 });
    expect(h.fsm.lockDelayUntil('k')).toBeUndefined();
  });

  it('lock-delay 0 arms nothing', () => {
    const h = new Harness();
    h.node('n1');
    h.session('s1', 'n1', { lockDelayMs: 0 });
    h.session('s2', 'n1');
    h.ok({ op: 'kvLock', key: 'k', value: bytes('a'), session: 's1' });
    h.ok({ op: 'sessionDestroy', id: 's1' });
    expect(h.ok({ op: 'kvLock', key: 'k', value: bytes('b'), session: 's2' })).toBe(true);
  });

  it('an invalid session under lock-delay is still refused as false (delay is judged first)', () => {
    const h = withSessions();
    h.ok({ op: 'kvLock', key: 'k', value: bytes('a'), session: 's1' });
    h.ok({ op: 'sessionDestroy', id: 's1' });
    expect(h.ok({ op: 'kvLock', key: 'k', value: bytes('a'), session: 'nope' })).toBe(false);
    expect(h.fsm.lockDelayUntil('k')).toBeDefined();
  });
});

describe('kv indexes', () => {
  it('per key and per prefix, with tombstones so deletes wake watchers', () => {
    const h = new Harness();
    put(h, 'web/a'); // 1
    put(h, 'web/b'); // 2
    put(h, 'db/x'); // 3
    expect(h.fsm.kvIndex('web/')).toBe(2);
    expect(h.fsm.kvKeyIndex('web/a')).toBe(1);
    h.ok({ op: 'kvDelete', key: 'web/b' }); // 4
    expect(h.fsm.kvIndex('web/')).toBe(4);
    expect(h.fsm.kvKeyIndex('web/b')).toBe(4);
    expect(h.fsm.kvIndex('db/')).toBe(3);
    expect(h.fsm.indexFor({ kind: 'kvPrefix', prefix: 'db/' })).toBe(3);
    expect(h.fsm.indexFor({ kind: 'kvKey', key: 'web/b' })).toBe(4);
    // Nothing ever under the prefix, or the empty prefix: the table index.
    expect(h.fsm.kvIndex('nothing/')).toBe(4);
    expect(h.fsm.kvIndex('')).toBe(4);
    expect(h.fsm.kvKeyIndex('nothing')).toBe(4);
  });

  it('recreating a key supersedes its tombstone; reaping falls back to the table index', () => {
    const h = new Harness();
    put(h, 'a/1'); // 1
    h.ok({ op: 'kvDelete', key: 'a/1' }); // 2
    put(h, 'b'); // 3
    h.ok({ op: 'kvDeleteTree', prefix: 'b' }); // 4
    put(h, 'c'); // 5
    expect(h.fsm.kvIndex('a/')).toBe(2);
    h.ok({ op: 'kvReapTombstones', upToIndex: 2 }); // 6
    expect(h.fsm.kvIndex('a/')).toBe(5);
    expect(h.fsm.kvKeyIndex('b')).toBe(4);
    expect(h.fsm.tableIndex('kvs')).toBe(5);
    put(h, 'b'); // 7
    expect(h.fsm.kvKeyIndex('b')).toBe(7);
    h.ok({ op: 'kvReapTombstones', upToIndex: 100 });
    expect(h.fsm.kvKeyIndex('b')).toBe(7);
  });
});
