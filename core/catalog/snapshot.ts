// core/catalog/snapshot.ts — the catalog as bytes, and back.
//
// Owns: the snapshot format Raft stores and ships (InstallSnapshot): UTF-8 JSON with every
// table in sorted order and KV values in base64, so equal catalogs give equal bytes.
// Must never: accept a malformed snapshot silently — decode names the field that is wrong;
// never include anything that is not replicated state.
import { fromBase64, toBase64 } from './base64.ts';
import {
  byString,
  emptyState,
  innerSet,
  innerSorted,
  makeCheck,
  makeKV,
  makeNode,
  makeService,
  makeSession,
  type CatalogState,
} from './state.ts';
import type { KVEntry } from './types.ts';
import { makePreparedQuery, preparedQueryShapeProblem, type PreparedQuery } from './prepared-query.ts';
import { toU64 } from './u64.ts';
import { TABLE_NAMES } from './watch.ts';

const FORMAT = 'muster-catalog-snapshot';
const VERSION = 1;

const sortedEntries = <V>(m: Map<string, V>): [string, V][] => [...m.keys()].sort(byString).map((k) => [k, m.get(k)!]);

/** Each KV entry's JSON, as UTF-8 bytes, kept between snapshots: entries are never changed in
 *  place (a write makes a new one), so a snapshot encodes only what changed since the last and
 *  copies the rest. With 10k+ keys encoding them all was most of a snapshot's cost (~200 ms of
 *  a server's event loop, every 8192 entries). */
const kvJson = new WeakMap<object, Uint8Array>();
const utf8 = new TextEncoder();

function kvBytes(e: KVEntry): Uint8Array {
  let bytes = kvJson.get(e);
  if (bytes === undefined) {
    bytes = utf8.encode(JSON.stringify({ ...e, Value: toBase64(e.Value) }));
    kvJson.set(e, bytes);
  }
  return bytes;
}

/** `acl`: the ACL tables' snapshot (core/acl/state.ts), written only when there are any, so a
 *  cluster that never used ACLs keeps its snapshot bytes. */
export function encodeSnapshot(s: CatalogState, acl?: unknown): Uint8Array {
  const before = {
    format: FORMAT,
    version: VERSION,
    lastIndex: s.lastIndex,
    tableIndex: Object.fromEntries(TABLE_NAMES.map((t) => [t, s.tableIndex[t]])),
    nodes: sortedEntries(s.nodes).map(([, n]) => n),
    services: [...s.services.keys()].sort(byString).flatMap((n) => innerSorted(s.services, n)),
    checks: [...s.checks.keys()].sort(byString).flatMap((n) => innerSorted(s.checks, n)),
  };
  const after = {
    tombstones: sortedEntries(s.tombstones),
    sessions: sortedEntries(s.sessions).map(([, v]) => v),
    lockDelays: sortedEntries(s.lockDelays),
    // Only written once a restore happened, so snapshots of never-restored catalogs keep
    // their bytes.
    ...(s.restoreIndex > 0 ? { restoreIndex: s.restoreIndex } : {}),
    serviceIndex: sortedEntries(s.serviceIndex),
    nodeIndex: sortedEntries(s.nodeIndex),
    entityIndexBase: s.entityIndexBase,
    ...(acl === undefined ? {} : { acl }),
    // Only once a prepared query was ever written, so older catalogs keep their bytes.
    ...(s.preparedQueryIndex > 0
      ? { preparedQueryIndex: s.preparedQueryIndex, preparedQueries: sortedEntries(s.preparedQueries).map(([, q]) => q) }
      : {}),
  };
  // Byte for byte the UTF-8 of JSON.stringify({ ...before, kvs, ...after }), the kvs from the cache.
  const head = utf8.encode(`${JSON.stringify(before).slice(0, -1)},"kvs":[`);
  const tail = utf8.encode(`],${JSON.stringify(after).slice(1)}`);
  const kvs = s.kvKeys.all().map((k) => kvBytes(s.kvs.get(k)!));
  let size = head.length + tail.length + Math.max(0, kvs.length - 1);
  for (const b of kvs) size += b.length;
  const out = new Uint8Array(size);
  out.set(head, 0);
  let at = head.length;
  kvs.forEach((b, i) => {
    if (i > 0) out[at++] = 0x2c; // ','
    out.set(b, at);
    at += b.length;
  });
  out.set(tail, at);
  return out;
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly where: string) {}
  fail(msg: string): never {
    throw new Error(`catalog snapshot: ${this.where}: ${msg}; the snapshot is corrupt or from another program — take a new snapshot from a healthy server`);
  }
  obj(v: unknown): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail('expected an object');
    return v as Obj;
  }
  at(where: string): Reader {
    return new Reader(`${this.where}.${where}`);
  }
  str(o: Obj, f: string): string {
    const v = o[f];
    return typeof v === 'string' ? v : this.at(f).fail('expected a string');
  }
  uint(o: Obj, f: string): number {
    const v = o[f];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : this.at(f).fail('expected a non-negative integer');
  }
  /** KV Flags: decimal text (numbers from version-1 snapshots written before uint64 support). */
  u64(o: Obj, f: string): string {
    return toU64(o[f]) ?? this.at(f).fail('expected a uint64 (decimal text)');
  }
  num(o: Obj, f: string): number {
    const v = o[f];
    return typeof v === 'number' && Number.isFinite(v) ? v : this.at(f).fail('expected a finite number');
  }
  bool(o: Obj, f: string): boolean {
    const v = o[f];
    return typeof v === 'boolean' ? v : this.at(f).fail('expected a boolean');
  }
  strArr(o: Obj, f: string): string[] {
    const v = o[f];
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : this.at(f).fail('expected an array of strings');
  }
  strMap(o: Obj, f: string): Record<string, string> {
    const v = this.at(f).obj(o[f]);
    if (!Object.values(v).every((x) => typeof x === 'string')) this.at(f).fail('expected string values');
    return v as Record<string, string>;
  }
  oneOf<T extends string>(o: Obj, f: string, allowed: readonly T[]): T {
    const v = o[f];
    return (allowed as readonly unknown[]).includes(v) ? (v as T) : this.at(f).fail(`expected one of ${allowed.join(', ')}`);
  }
  arr(o: Obj, f: string): unknown[] {
    const v = o[f];
    return Array.isArray(v) ? v : this.at(f).fail('expected an array');
  }
  pairs(o: Obj, f: string): [string, number][] {
    return this.arr(o, f).map((p, i) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'number' || !Number.isFinite(p[1])) {
        this.at(`${f}[${i}]`).fail('expected a [string, number] pair');
      }
      return p as [string, number];
    });
  }
  indexes(o: Obj): { CreateIndex: number; ModifyIndex: number } {
    return { CreateIndex: this.uint(o, 'CreateIndex'), ModifyIndex: this.uint(o, 'ModifyIndex') };
  }
}

function decodeValue(r: Reader, text: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch (e) {
    return r.at('Value').fail((e as Error).message);
  }
}

export function decodeSnapshot(bytes: Uint8Array): CatalogState {
  return decodeSnapshotParts(bytes).state;
}

/** The catalog tables, and the ACL part as plain data (undefined when the snapshot has none). */
export function decodeSnapshotParts(bytes: Uint8Array): { state: CatalogState; acl: unknown } {
  const top = new Reader('snapshot');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    top.fail(`not UTF-8 JSON (${(e as Error).message})`);
  }
  const doc = top.obj(parsed);
  if (doc['format'] !== FORMAT) top.at('format').fail(`expected '${FORMAT}'`);
  if (doc['version'] !== VERSION) top.at('version').fail(`expected version ${VERSION}, this build reads only that`);

  const s = emptyState();
  s.lastIndex = top.uint(doc, 'lastIndex');
  const ti = top.at('tableIndex').obj(doc['tableIndex']);
  for (const t of TABLE_NAMES) s.tableIndex[t] = top.at('tableIndex').uint(ti, t);

  top.arr(doc, 'nodes').forEach((v, i) => {
    const r = top.at(`nodes[${i}]`);
    const o = r.obj(v);
    const n = makeNode(
      { ID: r.str(o, 'ID'), Node: r.str(o, 'Node'), Address: r.str(o, 'Address'), Datacenter: r.str(o, 'Datacenter'), TaggedAddresses: r.strMap(o, 'TaggedAddresses'), Meta: r.strMap(o, 'Meta') },
      r.indexes(o),
    );
    s.nodes.set(n.Node, n);
  });

  top.arr(doc, 'services').forEach((v, i) => {
    const r = top.at(`services[${i}]`);
    const o = r.obj(v);
    const w = r.at('Weights').obj(o['Weights']);
    const svc = makeService(
      {
        Node: r.str(o, 'Node'),
        ID: r.str(o, 'ID'),
        Service: r.str(o, 'Service'),
        Tags: r.strArr(o, 'Tags'),
        Address: r.str(o, 'Address'),
        Meta: r.strMap(o, 'Meta'),
        Port: r.uint(o, 'Port'),
        Weights: { Passing: r.at('Weights').uint(w, 'Passing'), Warning: r.at('Weights').uint(w, 'Warning') },
        EnableTagOverride: r.bool(o, 'EnableTagOverride'),
      },
      r.indexes(o),
    );
    if (!s.nodes.has(svc.Node)) r.fail(`service of unknown node '${svc.Node}'`);
    innerSet(s.services, svc.Node, svc.ID, svc);
  });

  top.arr(doc, 'checks').forEach((v, i) => {
    const r = top.at(`checks[${i}]`);
    const o = r.obj(v);
    const ch = makeCheck(
      {
        Node: r.str(o, 'Node'),
        CheckID: r.str(o, 'CheckID'),
        Name: r.str(o, 'Name'),
        Status: r.oneOf(o, 'Status', ['passing', 'warning', 'critical'] as const),
        Notes: r.str(o, 'Notes'),
        Output: r.str(o, 'Output'),
        ServiceID: r.str(o, 'ServiceID'),
        ServiceName: r.str(o, 'ServiceName'),
        ServiceTags: r.strArr(o, 'ServiceTags'),
        Type: r.str(o, 'Type'),
      },
      r.indexes(o),
    );
    if (!s.nodes.has(ch.Node)) r.fail(`check of unknown node '${ch.Node}'`);
    innerSet(s.checks, ch.Node, ch.CheckID, ch);
  });

  top.arr(doc, 'kvs').forEach((v, i) => {
    const r = top.at(`kvs[${i}]`);
    const o = r.obj(v);
    const value = decodeValue(r, r.str(o, 'Value'));
    const e = makeKV(
      { Key: r.str(o, 'Key'), Flags: r.u64(o, 'Flags'), Value: value, LockIndex: r.uint(o, 'LockIndex'), Session: r.str(o, 'Session') },
      r.indexes(o),
    );
    s.kvs.set(e.Key, e);
    s.kvKeys.add(e.Key);
  });

  for (const [k, idx] of top.pairs(doc, 'tombstones')) {
    s.tombstones.set(k, idx);
    s.tombstoneKeys.add(k);
  }

  top.arr(doc, 'sessions').forEach((v, i) => {
    const r = top.at(`sessions[${i}]`);
    const o = r.obj(v);
    const sess = makeSession(
      {
        ID: r.str(o, 'ID'),
        Name: r.str(o, 'Name'),
        Node: r.str(o, 'Node'),
        Checks: r.strArr(o, 'Checks'),
        // Absent in snapshots written before service checks were kept.
        ServiceChecks: o['ServiceChecks'] === undefined ? [] : r.strArr(o, 'ServiceChecks'),
        LockDelayMs: r.uint(o, 'LockDelayMs'),
        Behavior: r.oneOf(o, 'Behavior', ['release', 'delete'] as const),
        TTLMs: r.uint(o, 'TTLMs'),
      },
      r.indexes(o),
    );
    s.sessions.set(sess.ID, sess);
  });

  for (const [k, until] of top.pairs(doc, 'lockDelays')) s.lockDelays.set(k, until);
  if (doc['restoreIndex'] !== undefined) s.restoreIndex = top.uint(doc, 'restoreIndex');
  if (doc['serviceIndex'] === undefined) {
    // Written before per-service and per-node indexes: every name reads as the snapshot's index.
    s.entityIndexBase = s.lastIndex;
  } else {
    for (const [k, idx] of top.pairs(doc, 'serviceIndex')) s.serviceIndex.set(k, idx);
    for (const [k, idx] of top.pairs(doc, 'nodeIndex')) s.nodeIndex.set(k, idx);
    s.entityIndexBase = top.uint(doc, 'entityIndexBase');
  }
  if (doc['preparedQueryIndex'] !== undefined) {
    s.preparedQueryIndex = top.uint(doc, 'preparedQueryIndex');
    top.arr(doc, 'preparedQueries').forEach((v, i) => {
      const r = top.at(`preparedQueries[${i}]`);
      const problem = preparedQueryShapeProblem(v, 'query');
      if (problem) r.fail(problem);
      const o = v as PreparedQuery;
      s.preparedQueries.set(o.ID, makePreparedQuery(o, r.indexes(o as unknown as Obj)));
    });
  }
  return { state: s, acl: doc['acl'] };
}
