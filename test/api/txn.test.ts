// PUT /v1/txn: Consul's shapes, codes and texts; all-or-nothing in one Raft entry; read-only
// transactions served without Raft.
import { describe, expect, it } from 'vitest';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { FakeBackend, bodyText, request } from '../http/fake-backend.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function txn(b: FakeBackend, ops: unknown, query = '') {
  const res = await b.handle(request('PUT', `/v1/txn${query}`, typeof ops === 'string' ? ops : JSON.stringify(ops)));
  const t = bodyText(res);
  let body: any = t;
  try {
    body = JSON.parse(t);
  } catch {
    /* plain-text error */
  }
  return { status: res.status, body, text: t, headers: res.headers };
}

describe('/v1/txn', () => {
  it('applies KV writes as one Raft entry and returns results without values', async () => {
    const b = new FakeBackend();
    const before = b.index;
    const r = await txn(b, [
      { KV: { Verb: 'set', Key: 'a', Value: b64('1'), Flags: 7 } },
      { KV: { Verb: 'cas', Key: 'b', Value: b64('2'), Index: 0 } },
      { KV: { Verb: 'get', Key: 'a' } },
    ]);
    expect(r.status).toBe(200);
    expect(b.index).toBe(before + 1);
    expect(r.body.Errors).toBeNull();
    expect(r.body.Results).toHaveLength(3);
    expect(r.body.Results[0].KV).toMatchObject({ Key: 'a', Flags: 7, Value: null, CreateIndex: before + 1 });
    expect(r.body.Results[1].KV).toMatchObject({ Key: 'b', Value: null });
    expect(r.body.Results[2].KV).toMatchObject({ Key: 'a', Value: b64('1') });
    expect(b.fsm.kvGet('b')!.Value).toEqual(new Uint8Array(Buffer.from('2')));
  });

  it('rolls back everything on any failure: 409, Results null, every failing op listed', async () => {
    const b = new FakeBackend();
    await txn(b, [{ KV: { Verb: 'set', Key: 'x', Value: b64('old') } }]);
    const idx = b.fsm.kvGet('x')!.ModifyIndex;
    const r = await txn(b, [
      { KV: { Verb: 'set', Key: 'x', Value: b64('new') } },
      { KV: { Verb: 'cas', Key: 'x', Value: b64('c'), Index: idx + 100 } },
      { KV: { Verb: 'delete', Key: 'x' } },
      { KV: { Verb: 'check-index', Key: 'nope', Index: 1 } },
      { KV: { Verb: 'bogus', Key: 'x' } },
    ]);
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      Results: null,
      Errors: [
        { OpIndex: 1, What: 'failed to set key "x", index is stale' },
        { OpIndex: 3, What: 'failed to check index, key "nope" doesn\'t exist' },
        { OpIndex: 4, What: 'unknown KV verb "bogus"' },
      ],
    });
    expect(Buffer.from(b.fsm.kvGet('x')!.Value).toString()).toBe('old');
    expect(b.fsm.kvGet('x')!.ModifyIndex).toBe(idx);
  });

  it('locks, checks the session, unlocks; a held lock and a bad session are errors', async () => {
    const b = new FakeBackend();
    const s1 = JSON.parse(bodyText(await b.handle(request('PUT', '/v1/session/create', '{}')))).ID;
    const s2 = JSON.parse(bodyText(await b.handle(request('PUT', '/v1/session/create', '{}')))).ID;
    const lock = await txn(b, [{ KV: { Verb: 'lock', Key: 'l', Value: b64('me'), Session: s1 } }, { KV: { Verb: 'check-session', Key: 'l', Session: s1 } }]);
    expect(lock.status).toBe(200);
    expect(lock.body.Results[0].KV).toMatchObject({ Key: 'l', LockIndex: 1, Session: s1 });
    const other = await txn(b, [{ KV: { Verb: 'lock', Key: 'l', Session: s2 } }]);
    expect(other.body.Errors).toEqual([{ OpIndex: 0, What: 'failed to lock key "l", lock is already held' }]);
    const ghost = await txn(b, [{ KV: { Verb: 'lock', Key: 'm', Session: 'no-such' } }]);
    expect(ghost.body.Errors[0].What).toBe('invalid session "no-such"');
    const cs = await txn(b, [{ KV: { Verb: 'check-session', Key: 'l', Session: s2 } }]);
    expect(cs.body.Errors[0].What).toBe(`failed session check for key "l", current session "${s1}" != "${s2}"`);
    const un = await txn(b, [{ KV: { Verb: 'unlock', Key: 'l', Session: s2 } }]);
    expect(un.body.Errors[0].What).toBe('failed to unlock key "l", lock isn\'t held, or is held by another session');
    expect((await txn(b, [{ KV: { Verb: 'unlock', Key: 'l', Session: s1 } }])).status).toBe(200);
    expect(b.fsm.kvGet('l')!.Session).toBe('');
  });

  it('get-tree, check-not-exists, delete-tree and delete-cas', async () => {
    const b = new FakeBackend();
    await txn(b, [
      { KV: { Verb: 'set', Key: 'p/1', Value: b64('a') } },
      { KV: { Verb: 'set', Key: 'p/2', Value: b64('b') } },
    ]);
    const tree = await txn(b, [{ KV: { Verb: 'get-tree', Key: 'p/' } }, { KV: { Verb: 'check-not-exists', Key: 'p/3' } }]);
    expect(tree.body.Results.map((r: any) => [r.KV.Key, r.KV.Value])).toEqual([
      ['p/1', b64('a')],
      ['p/2', b64('b')],
    ]);
    const exists = await txn(b, [{ KV: { Verb: 'check-not-exists', Key: 'p/1' } }]);
    expect(exists.body.Errors[0].What).toBe('key "p/1" exists');
    const stale = await txn(b, [{ KV: { Verb: 'delete-cas', Key: 'p/1', Index: 1 } }]);
    expect(stale.body.Errors[0].What).toBe('failed to delete key "p/1", index is stale');
    const idx = b.fsm.kvGet('p/1')!.ModifyIndex;
    expect((await txn(b, [{ KV: { Verb: 'delete-cas', Key: 'p/1', Index: idx } }, { KV: { Verb: 'delete-tree', Key: 'p/' } }])).status).toBe(200);
    expect(b.fsm.kvList('p/')).toEqual([]);
  });

  it('read-only transactions never reach Raft and carry query-meta headers', async () => {
    const b = new FakeBackend();
    await txn(b, [{ KV: { Verb: 'set', Key: 'r', Value: b64('v') } }]);
    const before = b.index;
    const r = await txn(b, [{ KV: { Verb: 'get', Key: 'r' } }, { Node: { Verb: 'get', Node: { Node: 'n1' } } }]);
    expect(r.status).toBe(200);
    expect(b.index).toBe(before);
    expect(r.headers['X-Consul-Index']).toBe(String(before));
    expect(r.headers['X-Consul-KnownLeader']).toBe('true');
    expect(r.body.Results[1].Node).toMatchObject({ Node: 'n1', Address: '127.0.0.1' });
    const miss = await txn(b, [{ KV: { Verb: 'get', Key: 'missing' } }]);
    expect(miss.status).toBe(409);
    expect(miss.body.Errors).toEqual([{ OpIndex: 0, What: 'key "missing" doesn\'t exist' }]);
    expect(b.index).toBe(before);
  });

  it('node, service and check operations, with CAS', async () => {
    const b = new FakeBackend();
    const r = await txn(b, [
      { Node: { Verb: 'set', Node: { Node: 'ext', Address: '10.0.0.9', Meta: { env: 'x' } } } },
      { Service: { Verb: 'set', Node: 'ext', Service: { ID: 'web-1', Service: 'web', Port: 80, Tags: ['a'] } } },
      { Check: { Verb: 'set', Check: { Node: 'ext', CheckID: 'web-ok', Name: 'web ok', Status: 'passing', ServiceID: 'web-1' } } },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.Results[0].Node).toMatchObject({ Node: 'ext', Address: '10.0.0.9', Meta: { env: 'x' } });
    expect(r.body.Results[1].Service).toMatchObject({ ID: 'web-1', Service: 'web', Port: 80, Tags: ['a'] });
    expect(r.body.Results[2].Check).toMatchObject({ CheckID: 'web-ok', Status: 'passing', ServiceName: 'web', ServiceTags: ['a'] });
    expect(b.fsm.healthService('web', { passingOnly: true })).toHaveLength(1);

    const svcIdx = b.fsm.nodeServices('ext')[0]!.ModifyIndex;
    const stale = await txn(b, [{ Service: { Verb: 'cas', Node: 'ext', Service: { ID: 'web-1', Service: 'web', Port: 81, ModifyIndex: svcIdx + 9 } } }]);
    expect(stale.body.Errors[0].What).toBe('failed to set service "web-1" on node "ext", index is stale');
    const ok = await txn(b, [{ Service: { Verb: 'cas', Node: 'ext', Service: { ID: 'web-1', Service: 'web', Port: 81, ModifyIndex: svcIdx } } }]);
    expect(ok.body.Results[0].Service.Port).toBe(81);

    const orphan = await txn(b, [{ Service: { Verb: 'set', Node: 'ghost', Service: { Service: 'x' } } }, { Check: { Verb: 'get', Check: { Node: 'ext', CheckID: 'nope' } } }]);
    expect(orphan.body.Errors).toEqual([
      { OpIndex: 0, What: 'Missing node registration' },
      { OpIndex: 1, What: 'check "nope" on node "ext" doesn\'t exist' },
    ]);
    const nodeIdx = b.fsm.node('ext')!.ModifyIndex;
    expect((await txn(b, [{ Node: { Verb: 'delete-cas', Node: { Node: 'ext', ModifyIndex: nodeIdx + 1 } } }])).body.Errors[0].What).toBe(
      'failed to delete node "ext", index is stale',
    );
    expect((await txn(b, [{ Node: { Verb: 'delete', Node: { Node: 'ext' } } }])).status).toBe(200);
    expect(b.fsm.node('ext')).toBeUndefined();
    expect(b.fsm.serviceInstances('web')).toEqual([]);
  });

  it('limits and malformed bodies: 413 for 65 ops, big values and bodies; 400 for bad JSON', async () => {
    const b = new FakeBackend();
    const many = Array.from({ length: 65 }, (_, i) => ({ KV: { Verb: 'get', Key: `k${i}` } }));
    const r = await txn(b, many);
    expect(r.status).toBe(413);
    expect(r.text).toBe('Transaction contains too many operations (65 > 64)');
    const big = await txn(b, [{ KV: { Verb: 'set', Key: 'big', Value: Buffer.alloc(400_000).toString('base64') } }]);
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/^Request body\(\d+ bytes\) too large, max size: 524288 bytes/);
    const val = await txn(b, [{ KV: { Verb: 'set', Key: 'big', Value: Buffer.alloc(300_000).toString('base64') } }]);
    expect(val.status).toBe(200);
    const garbage = await txn(b, '[{"KV": ');
    expect(garbage.status).toBe(400);
    expect(garbage.text).toMatch(/^Failed to parse body: /);
    const noOp = await txn(b, [{}]);
    expect(noOp.status).toBe(400);
    expect((await b.handle(request('GET', '/v1/txn'))).status).toBe(405);
  });

  it('uint64 Flags in the body survive to the answer', async () => {
    const b = new FakeBackend();
    const r = await txn(b, '[{"KV":{"Verb":"set","Key":".lock","Flags":3304740253564472344,"Value":null}},{"KV":{"Verb":"get","Key":".lock"}}]');
    expect(r.text).toContain('"Flags":3304740253564472344');
    expect(b.fsm.kvGet('.lock')!.Flags).toBe('3304740253564472344');
  });

  it('a rolled-back transaction leaves the snapshot byte-identical', () => {
    const fsm = new CatalogFSM();
    fsm.apply(1, { op: 'kvSet', nowMs: 0, key: 'k', value: new Uint8Array([1]) });
    const snap = fsm.snapshot();
    const r = fsm.apply(2, {
      op: 'txn',
      nowMs: 0,
      ops: [
        { KV: { Verb: 'delete-tree', Key: '' } },
        { KV: { Verb: 'get', Key: 'gone' } },
      ],
    });
    expect(r.ok && r.value).toMatchObject({ Results: null });
    expect(Buffer.from(fsm.snapshot()).toString().replace(/"lastIndex":2/, '"lastIndex":1')).toBe(Buffer.from(snap).toString());
  });
});
