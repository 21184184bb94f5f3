// Snapshot/restore and determinism of the catalog FSM, plus robustness against bad
// commands and bad snapshot bytes. Property tests print their seed on failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApplyResult, Command } from '../../core/catalog/commands.ts';
import { fromBase64, toBase64 } from '../../core/catalog/base64.ts';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { TABLE_NAMES, type TableName } from '../../core/catalog/watch.ts';
import { historyArb } from './gen.ts';
import { Harness, bytes } from './harness.ts';

const run = (cmds: Command[], fsm = new CatalogFSM(), from = 0): ApplyResult[] => cmds.map((c, i) => fsm.apply(from + i + 1, c));
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function populated(): Harness {
  const h = new Harness();
  h.node('n1');
  h.node('n2');
  h.ok({
    op: 'register',
    node: { Node: 'n1', Address: '10.0.0.2', Meta: { rack: 'r1' }, TaggedAddresses: { wan: '1.2.3.4' } },
    service: { ID: 'web3', Service: 'web3', Tags: ['a'], Port: 10000, Meta: { v: '1' }, Weights: { Passing: 10, Warning: 1 } },
    checks: [{ CheckID: 'service:web3', Name: "Service 'web3' check", ServiceID: 'web3', Status: 'warning', Output: 'HTTP 429', Type: 'http' }],
  });
  h.ok({ op: 'kvSet', key: 'bin', value: Uint8Array.from({ length: 256 }, (_, i) => i), flags: 3 });
  h.ok({ op: 'kvSet', key: 'gone', value: bytes('x') });
  h.ok({ op: 'kvDelete', key: 'gone' });
  h.session('s1', 'n1', { ttlMs: 20_000, behavior: 'release', name: 'lock' });
  h.session('s2', 'n2', { behavior: 'delete' });
  h.ok({ op: 'kvLock', key: 'held', value: bytes('me'), session: 's2' });
  h.ok({ op: 'kvLock', key: 'was', value: bytes(''), session: 's1' });
  h.ok({ op: 'sessionDestroy', id: 's1' }); // arms a lock-delay on 'was'
  return h;
}

describe('snapshot / restore', () => {
  it('restore(snapshot(x)) deep-equals x, and its snapshot is byte-identical', () => {
    const h = populated();
    const snap = h.fsm.snapshot();
    const back = CatalogFSM.restore(snap);
    expect(back).toEqual(h.fsm);
    expect(dec(back.snapshot())).toBe(dec(snap));
    expect(back.kvGet('bin')!.Value).toEqual(h.fsm.kvGet('bin')!.Value);
    expect(back.lockDelayUntil('was')).toBe(h.nowMs + 15_000);
    expect(back.kvKeyIndex('gone')).toBe(h.fsm.kvKeyIndex('gone'));
    expect(back.healthService('web3')).toEqual(h.fsm.healthService('web3'));
  });

  it('deep equality notices a difference (the round-trip assertion can fail)', () => {
    const h = populated();
    const back = CatalogFSM.restore(h.fsm.snapshot());
    back.apply(h.index + 1, { op: 'kvSet', key: 'extra', value: bytes(''), nowMs: 0 });
    expect(back).not.toEqual(h.fsm);
  });

  it('an empty catalog round-trips', () => {
    const fsm = new CatalogFSM();
    expect(CatalogFSM.restore(fsm.snapshot())).toEqual(fsm);
  });

  it('restored state keeps working: lock-delay and sessions survive', () => {
    const h = populated();
    const back = CatalogFSM.restore(h.fsm.snapshot());
    const next = h.index + 1;
    expect(back.apply(next, { op: 'sessionCreate', id: 's3', node: 'n1', nowMs: h.nowMs })).toMatchObject({ ok: true });
    expect(back.apply(next + 1, { op: 'kvLock', key: 'was', value: bytes(''), session: 's3', nowMs: h.nowMs + 1 })).toMatchObject({ value: false });
    expect(back.apply(next + 2, { op: 'deregister', node: 'n2', nowMs: h.nowMs })).toMatchObject({ invalidatedSessions: ['s2'] });
    expect(back.kvGet('held')).toBeUndefined();
  });

  it.each([
    [bytes('not json'), 'snapshot: not UTF-8 JSON'],
    [new Uint8Array([0xff, 0xfe]), 'snapshot: not UTF-8 JSON'],
    [bytes('[]'), 'snapshot: expected an object'],
    [bytes('{"format":"other"}'), "snapshot.format: expected 'muster-catalog-snapshot'"],
  ])('refuses bad bytes %#', (b, msg) => {
    expect(() => CatalogFSM.restore(b)).toThrow(msg);
  });

  it('names the bad field of an otherwise valid snapshot', () => {
    const doc = JSON.parse(dec(populated().fsm.snapshot()));
    const bad = (mutate: (d: typeof doc) => void) => {
      const d = structuredClone(doc);
      mutate(d);
      return () => CatalogFSM.restore(bytes(JSON.stringify(d)));
    };
    expect(bad((d) => (d.nodes[0].Address = 7))).toThrow('snapshot.nodes[0].Address: expected a string');
    expect(bad((d) => (d.kvs[0].Value = '@@@@'))).toThrow("snapshot.kvs[0].Value: base64 text has invalid character '@'");
    expect(bad((d) => (d.checks[0].Status = 'meh'))).toThrow('snapshot.checks[0].Status: expected one of passing, warning, critical');
    expect(bad((d) => (d.services[0].Node = 'ghost'))).toThrow("service of unknown node 'ghost'");
    expect(bad((d) => (d.version = 2))).toThrow('snapshot.version: expected version 1');
    expect(bad((d) => (d.tableIndex.kvs = -1))).toThrow('snapshot.tableIndex.kvs: expected a non-negative integer');
  });

  it('base64 matches the standard encoding for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const t = toBase64(b);
        expect(t).toBe(Buffer.from(b).toString('base64'));
        expect(fromBase64(t)).toEqual(b);
      }),
    );
  });
});

describe('robustness', () => {
  it('apply never throws on arbitrary values and leaves tables untouched when it refuses', () => {
    fc.assert(
      fc.property(fc.anything(), fc.record({ op: fc.constantFrom('register', 'kvSet', 'kvLock', 'sessionCreate', 'deregister'), nowMs: fc.anything(), node: fc.anything(), key: fc.anything(), value: fc.anything(), id: fc.anything(), checks: fc.anything() }, { requiredKeys: ['op'] }), (junk, partial) => {
        const h = populated();
        const before = dec(h.fsm.snapshot());
        for (const cmd of [junk, partial]) {
          const r = h.fsm.apply(++h.index, cmd as Command);
          if (!r.ok) expect(JSON.parse(dec(h.fsm.snapshot())).tableIndex).toEqual(JSON.parse(before).tableIndex);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------ properties

function tableContent(fsm: CatalogFSM): Record<TableName, string> {
  const bytesAsText = (_k: string, v: unknown) => (v instanceof Uint8Array ? toBase64(v) : v);
  return {
    nodes: JSON.stringify(fsm.nodes()),
    services: JSON.stringify(fsm.nodes().flatMap((n) => fsm.nodeServices(n.Node))),
    checks: JSON.stringify(fsm.checksInState('any')),
    kvs: JSON.stringify(fsm.kvList(''), bytesAsText),
    sessions: JSON.stringify(fsm.sessionList()),
  };
}

function checkInvariants(fsm: CatalogFSM): void {
  const last = fsm.lastIndex();
  const nodeNames = new Set(fsm.nodes().map((n) => n.Node));
  const within = (r: { CreateIndex: number; ModifyIndex: number }, table: TableName) => {
    expect(r.CreateIndex).toBeGreaterThan(0);
    expect(r.ModifyIndex).toBeGreaterThanOrEqual(r.CreateIndex);
    expect(r.ModifyIndex).toBeLessThanOrEqual(fsm.tableIndex(table));
    expect(fsm.tableIndex(table)).toBeLessThanOrEqual(last);
  };
  fsm.nodes().forEach((n) => within(n, 'nodes'));
  for (const n of nodeNames) {
    const svcs = new Map(fsm.nodeServices(n).map((s) => [s.ID, s]));
    svcs.forEach((s) => within(s, 'services'));
    for (const ch of fsm.nodeChecks(n)) {
      within(ch, 'checks');
      if (ch.ServiceID !== '') {
        const svc = svcs.get(ch.ServiceID);
        expect(svc, `check ${n}/${ch.CheckID} of missing service`).toBeDefined();
        expect([ch.ServiceName, ch.ServiceTags]).toEqual([svc!.Service, svc!.Tags]);
      }
    }
  }
  for (const sess of fsm.sessionList()) {
    within(sess, 'sessions');
    expect(nodeNames.has(sess.Node), `session ${sess.ID} of missing node`).toBe(true);
    for (const id of sess.Checks) {
      const ch = fsm.nodeChecks(sess.Node).find((c) => c.CheckID === id);
      expect(ch, `session ${sess.ID} lists missing check ${id}`).toBeDefined();
      expect(ch!.Status).not.toBe('critical');
    }
  }
  for (const e of fsm.kvList('')) {
    within(e, 'kvs');
    if (e.Session !== '') expect(fsm.sessionGet(e.Session), `key ${e.Key} held by dead session`).toBeDefined();
    expect(fsm.kvIndex(e.Key)).toBeGreaterThanOrEqual(e.ModifyIndex);
  }
}

describe('properties', () => {
  it('the same history gives identical results and snapshots on two replicas', () => {
    fc.assert(
      fc.property(historyArb, (cmds) => {
        const a = new CatalogFSM();
        const b = new CatalogFSM();
        expect(run(cmds, a)).toEqual(run(cmds, b));
        expect(dec(a.snapshot())).toBe(dec(b.snapshot()));
      }),
      { numRuns: 200 },
    );
  });

  it('snapshot → restore → continue equals continuing directly', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), (cmds, cutSeed) => {
        const cut = cutSeed % (cmds.length + 1);
        const direct = new CatalogFSM();
        const directResults = run(cmds, direct);
        const first = new CatalogFSM();
        run(cmds.slice(0, cut), first);
        const restored = CatalogFSM.restore(first.snapshot());
        expect(restored).toEqual(first);
        const rest = run(cmds.slice(cut), restored, cut);
        expect(rest).toEqual(directResults.slice(cut));
        expect(dec(restored.snapshot())).toBe(dec(direct.snapshot()));
        expect(restored).toEqual(direct);
      }),
      { numRuns: 200 },
    );
  });

  it('every apply bumps exactly the tables whose content it changed, and invariants hold', () => {
    fc.assert(
      fc.property(historyArb, (cmds) => {
        const fsm = new CatalogFSM();
        let content = tableContent(fsm);
        cmds.forEach((cmd, i) => {
          const before = fsm.tableIndexes();
          fsm.apply(i + 1, cmd);
          const after = fsm.tableIndexes();
          const next = tableContent(fsm);
          for (const t of TABLE_NAMES) {
            const changed = next[t] !== content[t];
            expect(after[t], `${cmd.op} at ${i + 1}: table ${t} ${changed ? 'changed' : 'unchanged'}`).toBe(changed ? i + 1 : before[t]);
          }
          content = next;
          checkInvariants(fsm);
        });
      }),
      { numRuns: 150 },
    );
  });
});
