// core/catalog/fsm.ts — the catalog state machine Raft replicates.
//
// Owns: applying committed catalog commands (register/deregister, check status, KV with
// CAS, locks and lock-delay, sessions and their invalidation, prepared queries) to the catalog tables,
// keeping CreateIndex/ModifyIndex and table/KV indexes, and every read the HTTP API, DNS
// and blocking queries need. Snapshot/restore delegate to snapshot.ts.
// Must never: read a clock or draw randomness (time and IDs arrive in commands), iterate
// a Map in insertion order where that order could differ between replicas, or throw on
// a command from the log (bad commands become error results, state untouched).
//
// Semantics follow Consul's state store: a write that changes nothing leaves records and
// table indexes alone (anti-entropy re-registrations do not wake watchers), except KV
// writes, which always write. Besides table indexes the FSM keeps a per-service index (moved
// by the service's instances, their checks and their nodes, as Consul's "service.<name>"
// index entries) and a per-node index, and reports the change keys of each apply (watch.ts)
// so blocking reads wake only when what they read moved. Errors leave state untouched but the Raft index still
// counts as applied (lastIndex advances), as in Consul.
import {
  DEFAULT_LOCK_DELAY_MS,
  DEFAULT_SESSION_CHECKS,
  MAX_LOCK_DELAY_MS,
  type ApplyResult,
  type Command,
  type DeregisterCommand,
  type KvCasCommand,
  type KvDeleteCommand,
  type KvLockCommand,
  type KvSetCommand,
  type KvUnlockCommand,
  type PreparedQuerySetCommand,
  type RegisterCommand,
  type RestoreCommand,
  type SessionCreateCommand,
  type TxnCheckOp,
  type TxnKvOp,
  type TxnNodeOp,
  type TxnOp,
  type TxnResponse,
  type TxnResult,
  type TxnServiceOp,
  type UpdateCheckStatusCommand,
} from './commands.ts';
import { casAllows, txnErr, txnReadOnly } from './txn.ts';
import {
  ERR_MISSING_QUERY_ID,
  errNonExistentQuery,
  filterInstances,
  looksLikeUuid,
  makePreparedQuery,
  renderFor,
  resolvePreparedQuery,
  type PreparedQuery,
  type PreparedQueryExecution,
} from './prepared-query.ts';
import { decodeSnapshot, decodeSnapshotParts, encodeSnapshot } from './snapshot.ts';
import { AclState } from '../acl/state.ts';
import { isAclCommand } from '../acl/commands.ts';
import {
  byString,
  cloneState,
  emptyState,
  innerDelete,
  innerGet,
  innerSet,
  innerSorted,
  makeCheck,
  makeKV,
  makeNode,
  makeService,
  makeSession,
  sameContent,
  type CatalogState,
} from './state.ts';
import type {
  CatalogNode,
  CatalogService,
  CatalogView,
  HealthCheck,
  HealthStatus,
  KVEntry,
  ServiceInstance,
  Session,
  SessionBehavior,
} from './types.ts';
import { toU64 } from './u64.ts';
import { validateCommand } from './validate.ts';
import { EVERY_CHANGE, PREPARED_QUERIES_CHANGE, nodeChange, serviceChange, tableChange, type CatalogWatch, type TableName } from './watch.ts';

/** Consul's state-store errors that clients (and our tests) match. */
export const ERR_MISSING_NODE = 'Missing node registration';
export const ERR_MISSING_SERVICE = 'Missing service registration';
export const errMissingCheck = (id: string): string => `Missing check '${id}' registration`;
export const errCheckState = (id: string, status: string): string => `Check '${id}' is in ${status} state`;
/** Go's %#v of a string is a double-quoted, escaped literal; JSON quoting matches it for
 *  the characters session IDs and API input realistically contain. */
export const errInvalidSession = (id: string): string => `invalid session ${JSON.stringify(id)}`;

class Rejected {
  constructor(readonly error: string) {}
}

/** One apply: the index and proposer time, plus sessions invalidated along the way. */
interface Tx {
  index: number;
  nowMs: number;
  invalidated: string[];
}

export class CatalogFSM implements CatalogView {
  /** Replaced whole by a committed transaction (its working copy) and by a restore. */
  private s: CatalogState;
  /** Change keys since the last takeChanges(). A private field (#), not replicated state:
   *  it stays out of snapshots and of deep equality between replicas. */
  #changes = new Set<string>();

  /** The replicated ACL tables; ACL commands in the log are applied there (core/acl). */
  acl: AclState;

  constructor(state: CatalogState = emptyState(), acl: AclState = new AclState()) {
    this.s = state;
    this.acl = acl;
  }

  /** The change keys (watch.ts) of every apply since the last call; the caller hands them to
   *  a WatchRegistry to find the parked reads that may wake. */
  takeChanges(): Set<string> {
    const out = this.#changes;
    this.#changes = new Set();
    return out;
  }

  // ---------------------------------------------------------------- apply

  /** Apply the command committed at Raft `index`. Never throws for any `cmd` value. */
  apply(index: number, cmd: Command): ApplyResult {
    if (!Number.isSafeInteger(index) || index <= this.s.lastIndex) {
      return { ok: false, error: `catalog: apply index ${index} must be an integer above the last applied index ${this.s.lastIndex}` };
    }
    this.s.lastIndex = index;
    if (isAclCommand(cmd)) {
      const r = this.acl.apply(index, cmd);
      return r.ok ? { ok: true, value: r.value as Record<string, unknown>, invalidatedSessions: [] } : r;
    }
    const v = validateCommand(cmd);
    if (!v.ok) return v;
    const c = v.cmd;
    const tx: Tx = { index, nowMs: c.nowMs, invalidated: [] };
    try {
      if (c.op === 'txn') return { ok: true, value: this.txn(tx, c.ops), invalidatedSessions: tx.invalidated };
      if (c.op === 'restore') return this.restoreFrom(tx, c);
      const value = this.dispatch(tx, c);
      return { ok: true, value, invalidatedSessions: tx.invalidated };
    } catch (e) {
      // Every state-dependent refusal is raised before the first mutation.
      if (e instanceof Rejected) return { ok: false, error: e.error };
      throw e;
    }
  }

  private dispatch(tx: Tx, c: Exclude<Command, { op: 'txn' | 'restore' }>): boolean {
    switch (c.op) {
      case 'register':
        return this.register(tx, c);
      case 'deregister':
        return this.deregister(tx, c);
      case 'updateCheckStatus':
        return this.updateCheckStatus(tx, c);
      case 'kvSet':
        return this.kvSet(tx, c);
      case 'kvCas':
        return this.kvCas(tx, c);
      case 'kvDelete':
        return this.kvDelete(tx, c);
      case 'kvDeleteTree':
        this.deleteTree(tx, c.prefix);
        return true;
      case 'kvLock':
        return this.kvLock(tx, c);
      case 'kvUnlock':
        return this.kvUnlock(tx, c);
      case 'kvReapTombstones':
        for (const key of [...this.s.tombstoneKeys.all()]) {
          if (this.s.tombstones.get(key)! > c.upToIndex) continue;
          this.removeTombstone(key);
          // The key's index falls back to the table's, which may be newer than its tombstone.
          this.#changes.add(tableChange('kvs'));
        }
        return true;
      case 'sessionCreate':
        return this.sessionCreate(tx, c);
      case 'preparedQuerySet':
        return this.preparedQuerySet(tx, c);
      case 'preparedQueryDelete':
        if (!this.s.preparedQueries.has(c.id)) throw new Rejected(errNonExistentQuery(c.id));
        this.deletePreparedQuery(tx, c.id);
        return true;
      case 'sessionDestroy':
      case 'sessionInvalidate':
        if (this.s.sessions.has(c.id)) this.deleteSession(tx, c.id);
        return true;
    }
  }

  private touch(tx: Tx, table: TableName): void {
    this.s.tableIndex[table] = tx.index;
    this.#changes.add(tableChange(table));
  }

  private bumpService(tx: Tx, name: string): void {
    if (name === '') return;
    this.s.serviceIndex.set(name, tx.index);
    this.#changes.add(serviceChange(name));
  }

  private bumpNode(tx: Tx, node: string): void {
    this.s.nodeIndex.set(node, tx.index);
    this.#changes.add(nodeChange(node));
  }

  /** A node-level change (its record, a node check) moves every service on it: health reads
   *  of those services carry the node and its checks. */
  private bumpServicesOfNode(tx: Tx, node: string): void {
    for (const svc of innerSorted(this.s.services, node)) this.bumpService(tx, svc.Service);
  }

  // ------------------------------------------------------------- catalog

  private register(tx: Tx, c: RegisterCommand): boolean {
    const nodeName = c.node.Node;
    const svcSpec = c.service;
    const svcId = svcSpec ? svcSpec.ID || svcSpec.Service : undefined;
    for (const ch of c.checks ?? []) {
      const sid = ch.ServiceID ?? '';
      if (sid !== '' && sid !== svcId && !innerGet(this.s.services, nodeName, sid)) throw new Rejected(ERR_MISSING_SERVICE);
    }

    const oldNode = this.s.nodes.get(nodeName);
    const node = makeNode(c.node, { CreateIndex: oldNode?.CreateIndex ?? tx.index, ModifyIndex: tx.index });
    if (!oldNode || !sameContent(oldNode, node)) {
      this.s.nodes.set(nodeName, node);
      this.touch(tx, 'nodes');
      this.bumpNode(tx, nodeName);
      this.bumpServicesOfNode(tx, nodeName);
    }

    if (svcSpec && svcId !== undefined) {
      const old = innerGet(this.s.services, nodeName, svcId);
      const svc = makeService({ ...svcSpec, Node: nodeName, ID: svcId }, { CreateIndex: old?.CreateIndex ?? tx.index, ModifyIndex: tx.index });
      if (!old || !sameContent(old, svc)) {
        innerSet(this.s.services, nodeName, svcId, svc);
        this.touch(tx, 'services');
        this.bumpNode(tx, nodeName);
        this.bumpService(tx, svc.Service);
        if (old && old.Service !== svc.Service) this.bumpService(tx, old.Service);
        // Checks carry the service's name and tags; keep them in step with the service.
        for (const ch of innerSorted(this.s.checks, nodeName)) {
          if (ch.ServiceID === svcId) this.putCheck(tx, { ...ch, ServiceName: svc.Service, ServiceTags: svc.Tags });
        }
      }
    }

    for (const spec of c.checks ?? []) {
      const sid = spec.ServiceID ?? '';
      const owner = sid === '' ? undefined : innerGet(this.s.services, nodeName, sid)!;
      this.putCheck(tx, {
        Node: nodeName,
        CheckID: spec.CheckID || spec.Name,
        Name: spec.Name,
        Status: spec.Status ?? 'critical',
        Notes: spec.Notes,
        Output: spec.Output,
        ServiceID: sid,
        ServiceName: owner?.Service ?? '',
        ServiceTags: owner?.Tags ?? [],
        Type: spec.Type,
      });
    }
    return true;
  }

  /** Upsert a check; a critical check invalidates the sessions that depend on it. */
  private putCheck(tx: Tx, fields: Parameters<typeof makeCheck>[0]): void {
    const old = innerGet(this.s.checks, fields.Node, fields.CheckID);
    const check = makeCheck(fields, { CreateIndex: old?.CreateIndex ?? tx.index, ModifyIndex: tx.index });
    if (!old || !sameContent(old, check)) {
      innerSet(this.s.checks, check.Node, check.CheckID, check);
      this.touch(tx, 'checks');
      this.checkMoved(tx, check);
      if (old && old.ServiceID !== check.ServiceID) this.checkMoved(tx, old);
    }
    if (check.Status === 'critical') this.invalidateSessionsOfCheck(tx, check.Node, check.CheckID);
  }

  private updateCheckStatus(tx: Tx, c: UpdateCheckStatusCommand): boolean {
    if (!this.s.nodes.has(c.node)) throw new Rejected(ERR_MISSING_NODE);
    const old = innerGet(this.s.checks, c.node, c.checkId);
    if (!old) throw new Rejected(errMissingCheck(c.checkId));
    this.putCheck(tx, { ...old, Status: c.status, Output: c.output ?? old.Output });
    return true;
  }

  private deregister(tx: Tx, c: DeregisterCommand): boolean {
    if (!this.s.nodes.has(c.node)) return true;
    if (c.serviceId) this.deleteService(tx, c.node, c.serviceId);
    else if (c.checkId) this.deleteCheck(tx, c.node, c.checkId);
    else this.deleteNode(tx, c.node);
    return true;
  }

  /** Who reads a check: its node, and its service (or, for a node check, every service there). */
  private checkMoved(tx: Tx, check: HealthCheck): void {
    this.bumpNode(tx, check.Node);
    if (check.ServiceID === '') this.bumpServicesOfNode(tx, check.Node);
    else this.bumpService(tx, innerGet(this.s.services, check.Node, check.ServiceID)?.Service ?? check.ServiceName);
  }

  private deleteCheck(tx: Tx, node: string, checkId: string): void {
    const old = innerGet(this.s.checks, node, checkId);
    if (!old) return;
    // Name the readers while the check (and its service) still exist.
    this.checkMoved(tx, old);
    innerDelete(this.s.checks, node, checkId);
    this.touch(tx, 'checks');
    this.invalidateSessionsOfCheck(tx, node, checkId);
  }

  private deleteService(tx: Tx, node: string, serviceId: string): void {
    const old = innerGet(this.s.services, node, serviceId);
    if (!old) return;
    innerDelete(this.s.services, node, serviceId);
    this.touch(tx, 'services');
    this.bumpNode(tx, node);
    this.bumpService(tx, old.Service);
    for (const ch of innerSorted(this.s.checks, node)) {
      if (ch.ServiceID === serviceId) this.deleteCheck(tx, node, ch.CheckID);
    }
  }

  private deleteNode(tx: Tx, node: string): void {
    for (const svc of innerSorted(this.s.services, node)) this.deleteService(tx, node, svc.ID);
    for (const ch of innerSorted(this.s.checks, node)) this.deleteCheck(tx, node, ch.CheckID);
    for (const sess of this.sessionsForNode(node)) this.deleteSession(tx, sess.ID);
    this.s.nodes.delete(node);
    this.touch(tx, 'nodes');
    this.bumpNode(tx, node);
  }

  // ------------------------------------------------------------------ KV

  private writeKV(tx: Tx, key: string, value: Uint8Array, flags: number | string | undefined, lock?: { LockIndex: number; Session: string }): void {
    const old = this.s.kvs.get(key);
    const entry = makeKV(
      {
        Key: key,
        // validate.ts admitted only uint64s, so toU64 cannot fail here.
        Flags: flags === undefined ? '0' : (toU64(flags) ?? '0'),
        Value: value,
        LockIndex: lock ? lock.LockIndex : (old?.LockIndex ?? 0),
        Session: lock ? lock.Session : (old?.Session ?? ''),
      },
      { CreateIndex: old?.CreateIndex ?? tx.index, ModifyIndex: tx.index },
    );
    this.s.kvs.set(key, entry);
    if (!old) this.s.kvKeys.add(key);
    // A live entry's ModifyIndex is newer than its tombstone, so the tombstone adds nothing.
    this.removeTombstone(key);
    this.touch(tx, 'kvs');
  }

  private deleteKV(tx: Tx, key: string): void {
    if (!this.s.kvs.delete(key)) return;
    this.s.kvKeys.delete(key);
    this.s.tombstones.set(key, tx.index);
    this.s.tombstoneKeys.add(key);
    this.touch(tx, 'kvs');
  }

  private removeTombstone(key: string): void {
    if (this.s.tombstones.delete(key)) this.s.tombstoneKeys.delete(key);
  }

  private deleteTree(tx: Tx, prefix: string): void {
    for (const key of this.s.kvKeys.withPrefix(prefix)) this.deleteKV(tx, key);
  }

  private kvSet(tx: Tx, c: KvSetCommand): boolean {
    this.writeKV(tx, c.key, c.value, c.flags);
    return true;
  }

  private kvCas(tx: Tx, c: KvCasCommand): boolean {
    const old = this.s.kvs.get(c.key);
    if (c.casIndex === 0 ? old !== undefined : old?.ModifyIndex !== c.casIndex) return false;
    this.writeKV(tx, c.key, c.value, c.flags);
    return true;
  }

  private kvDelete(tx: Tx, c: KvDeleteCommand): boolean {
    if (c.casIndex !== undefined) {
      const old = this.s.kvs.get(c.key);
      if (!old) return true; // nothing to delete counts as done (Consul's DeleteCAS)
      if (old.ModifyIndex !== c.casIndex) return false;
      this.deleteKV(tx, c.key);
      return true;
    }
    if (c.recurse) this.deleteTree(tx, c.key);
    else this.deleteKV(tx, c.key);
    return true;
  }

  private kvLock(tx: Tx, c: KvLockCommand): boolean {
    // Lock-delay is judged before the session, as Consul's KVS endpoint does.
    const until = this.s.lockDelays.get(c.key);
    if (until !== undefined && tx.nowMs < until) return false;
    if (!this.s.sessions.has(c.session)) throw new Rejected(errInvalidSession(c.session));
    if (until !== undefined) this.s.lockDelays.delete(c.key);
    const old = this.s.kvs.get(c.key);
    let lockIndex: number;
    if (!old) lockIndex = 1;
    else if (old.Session === c.session) lockIndex = old.LockIndex;
    else if (old.Session !== '') return false;
    else lockIndex = old.LockIndex + 1;
    this.writeKV(tx, c.key, c.value, c.flags, { LockIndex: lockIndex, Session: c.session });
    return true;
  }

  private kvUnlock(tx: Tx, c: KvUnlockCommand): boolean {
    const old = this.s.kvs.get(c.key);
    if (!old || old.Session !== c.session) return false;
    this.writeKV(tx, c.key, c.value, c.flags, { LockIndex: old.LockIndex, Session: '' });
    return true;
  }

  // ------------------------------------------------------------ sessions

  private sessionCreate(tx: Tx, c: SessionCreateCommand): boolean {
    if (this.s.sessions.has(c.id)) throw new Rejected(`Session '${c.id}' already exists`);
    if (!this.s.nodes.has(c.node)) throw new Rejected(ERR_MISSING_NODE);
    const checks = c.checks ?? DEFAULT_SESSION_CHECKS;
    const serviceChecks = c.serviceChecks ?? [];
    for (const id of [...checks, ...serviceChecks]) {
      const ch = innerGet(this.s.checks, c.node, id);
      if (!ch) throw new Rejected(errMissingCheck(id));
      if (ch.Status === 'critical') throw new Rejected(errCheckState(id, ch.Status));
    }
    const behavior: SessionBehavior = c.behavior === 'delete' ? 'delete' : 'release';
    const session = makeSession(
      {
        ID: c.id,
        Name: c.name ?? '',
        Node: c.node,
        Checks: checks,
        ServiceChecks: serviceChecks,
        LockDelayMs: Math.min(c.lockDelayMs ?? DEFAULT_LOCK_DELAY_MS, MAX_LOCK_DELAY_MS),
        Behavior: behavior,
        TTLMs: c.ttlMs ?? 0,
      },
      { CreateIndex: tx.index, ModifyIndex: tx.index },
    );
    this.s.sessions.set(c.id, session);
    this.touch(tx, 'sessions');
    return true;
  }

  private invalidateSessionsOfCheck(tx: Tx, node: string, checkId: string): void {
    for (const sess of this.sessionsForNode(node)) {
      if (sess.Checks.includes(checkId) || sess.ServiceChecks.includes(checkId)) this.deleteSession(tx, sess.ID);
    }
  }

  /** Destroy or invalidate: release or delete the session's keys, arm their lock-delay. */
  private deleteSession(tx: Tx, id: string): void {
    const sess = this.s.sessions.get(id)!;
    for (const [key, until] of [...this.s.lockDelays]) if (tx.nowMs >= until) this.s.lockDelays.delete(key);
    for (const key of [...this.s.kvKeys.all()]) {
      const e = this.s.kvs.get(key)!;
      if (e.Session !== id) continue;
      if (sess.Behavior === 'delete') this.deleteKV(tx, key);
      else this.writeKV(tx, key, e.Value, e.Flags, { LockIndex: e.LockIndex, Session: '' });
      if (sess.LockDelayMs > 0) this.s.lockDelays.set(key, tx.nowMs + sess.LockDelayMs);
    }
    this.s.sessions.delete(id);
    this.touch(tx, 'sessions');
    tx.invalidated.push(id);
    // Consul deletes the prepared queries bound to a session with it.
    for (const q of this.preparedQueryList()) if (q.Session === id) this.deletePreparedQuery(tx, q.ID);
  }

  // ---------------------------------------------------- prepared queries

  /** Consul's preparedQuerySetTxn checks (stateless ones ran in validate.ts). */
  private preparedQuerySet(tx: Tx, c: PreparedQuerySetCommand): boolean {
    const q = c.query;
    const existing = this.s.preparedQueries.get(q.ID);
    if (c.create && existing) throw new Rejected(`prepared query ID '${q.ID}' is already taken; create again for a new ID`);
    if (!c.create && !existing) throw new Rejected(errNonExistentQuery(q.ID));
    const name = q.Name.toLowerCase();
    for (const other of this.preparedQueryList()) {
      if (other.ID === q.ID) continue;
      if (name !== '' && other.Name.toLowerCase() === name) throw new Rejected(`name '${q.Name}' aliases an existing query name`);
      if (name === '' && q.Template.Type !== '' && other.Name === '' && other.Template.Type !== '') {
        throw new Rejected('a query template with an empty name already exists');
      }
    }
    if (looksLikeUuid(q.Name) && this.s.preparedQueries.has(q.Name.toLowerCase())) throw new Rejected(`name '${q.Name}' aliases an existing query ID`);
    if (q.Session !== '' && !this.s.sessions.has(q.Session)) throw new Rejected(errInvalidSession(q.Session));
    this.s.preparedQueries.set(q.ID, makePreparedQuery(q, { CreateIndex: existing?.CreateIndex ?? tx.index, ModifyIndex: tx.index }));
    this.touchPreparedQueries(tx);
    return true;
  }

  private deletePreparedQuery(tx: Tx, id: string): void {
    this.s.preparedQueries.delete(id);
    this.touchPreparedQueries(tx);
  }

  private touchPreparedQueries(tx: Tx): void {
    this.s.preparedQueryIndex = tx.index;
    this.#changes.add(PREPARED_QUERIES_CHANGE);
  }

  // -------------------------------------------------------- transactions

  /** All or nothing: the ops run on a copy of the state, which replaces the state only if
   *  every op succeeded. Every failing op is reported (Consul runs them all). */
  private txn(tx: Tx, ops: readonly TxnOp[]): TxnResponse {
    const work = new CatalogFSM(cloneState(this.s));
    const before = tx.invalidated.length;
    const out = work.runTxn(tx, ops);
    if (out.Errors) tx.invalidated.length = before;
    else {
      this.s = work.s;
      for (const k of work.takeChanges()) this.#changes.add(k);
    }
    return out;
  }

  /** Read-only transactions, answered from the current state without Raft (Consul's
   *  Txn.Read). A write verb here is refused per op, never applied. */
  readTxn(ops: readonly TxnOp[]): TxnResponse {
    if (!txnReadOnly(ops)) {
      return { Results: null, Errors: ops.map((_, i) => ({ OpIndex: i, What: 'read-only transaction contains a write operation' })) };
    }
    return this.runTxn({ index: this.s.lastIndex, nowMs: 0, invalidated: [] }, ops);
  }

  private runTxn(tx: Tx, ops: readonly TxnOp[]): TxnResponse {
    const results: TxnResult[] = [];
    const errors: { OpIndex: number; What: string }[] = [];
    ops.forEach((op, i) => {
      try {
        results.push(...this.txnOp(tx, op));
      } catch (e) {
        if (!(e instanceof Rejected)) throw e;
        errors.push({ OpIndex: i, What: e.error });
      }
    });
    return errors.length > 0 ? { Results: null, Errors: errors } : { Results: results, Errors: null };
  }

  private txnOp(tx: Tx, op: TxnOp): TxnResult[] {
    if ('KV' in op) return this.txnKv(tx, op);
    if ('Node' in op) return this.txnNode(tx, op);
    if ('Service' in op) return this.txnService(tx, op);
    return this.txnCheck(tx, op);
  }

  /** Consul returns the written entry without its value for everything but get. */
  private kvResult(key: string, keepValue: boolean): TxnResult[] {
    const e = this.s.kvs.get(key);
    if (!e) return [];
    return [{ KV: keepValue ? e : { ...e, Value: new Uint8Array(0) } }];
  }

  private txnKv(tx: Tx, { KV: o }: TxnKvOp): TxnResult[] {
    const key = o.Key;
    const value = o.Value ?? new Uint8Array(0);
    const index = o.Index ?? 0;
    const session = o.Session ?? '';
    const old = this.s.kvs.get(key);
    const needKey = () => {
      if (key === '') throw new Rejected('Missing key name');
    };
    switch (o.Verb) {
      case 'set':
        needKey();
        this.writeKV(tx, key, value, o.Flags);
        return this.kvResult(key, false);
      case 'cas':
        needKey();
        if (index === 0 ? old !== undefined : old?.ModifyIndex !== index) throw new Rejected(txnErr.keyStale(key));
        this.writeKV(tx, key, value, o.Flags);
        return this.kvResult(key, false);
      case 'lock': {
        needKey();
        // Consul's txn lock skips the lock-delay check its KVS endpoint makes.
        if (!this.s.sessions.has(session)) throw new Rejected(errInvalidSession(session));
        let lockIndex = 1;
        if (old?.Session === session) lockIndex = old.LockIndex;
        else if (old && old.Session !== '') throw new Rejected(txnErr.lockHeld(key));
        else if (old) lockIndex = old.LockIndex + 1;
        this.writeKV(tx, key, value, o.Flags, { LockIndex: lockIndex, Session: session });
        return this.kvResult(key, false);
      }
      case 'unlock':
        if (!old || old.Session !== session) throw new Rejected(txnErr.unlockNotHeld(key));
        this.writeKV(tx, key, value, o.Flags, { LockIndex: old.LockIndex, Session: '' });
        return this.kvResult(key, false);
      case 'get':
        if (!old) throw new Rejected(txnErr.keyMissing(key));
        return this.kvResult(key, true);
      case 'get-or-empty':
        return old ? this.kvResult(key, true) : [];
      case 'get-tree':
        return this.kvList(key).map((e) => ({ KV: e }));
      case 'check-session':
        if (!old) throw new Rejected(txnErr.sessionKeyMissing(key));
        if (old.Session !== session) throw new Rejected(txnErr.sessionMismatch(key, old.Session, session));
        return this.kvResult(key, false);
      case 'check-index':
        if (!old) throw new Rejected(txnErr.indexKeyMissing(key));
        if (old.ModifyIndex !== index) throw new Rejected(txnErr.indexMismatch(key, old.ModifyIndex, index));
        return this.kvResult(key, false);
      case 'check-not-exists':
        if (old) throw new Rejected(txnErr.keyExists(key));
        return [];
      case 'delete':
        this.deleteKV(tx, key);
        return [];
      case 'delete-tree':
        this.deleteTree(tx, key);
        return [];
      case 'delete-cas':
        if (old && old.ModifyIndex !== index) throw new Rejected(txnErr.keyDeleteStale(key));
        this.deleteKV(tx, key);
        return [];
      default:
        throw new Rejected(txnErr.unknownVerb('KV', o.Verb));
    }
  }

  /** The node record a service or check op registers under: unchanged (so not touched). */
  private existingNodeSpec(name: string): RegisterCommand['node'] {
    const n = this.s.nodes.get(name);
    if (!n) throw new Rejected(ERR_MISSING_NODE);
    return { Node: n.Node, Address: n.Address, ID: n.ID, Datacenter: n.Datacenter, TaggedAddresses: n.TaggedAddresses, Meta: n.Meta };
  }

  private txnNode(tx: Tx, { Node: o }: TxnNodeOp): TxnResult[] {
    const spec = o.Node;
    const name = spec.Node;
    const old = this.s.nodes.get(name);
    const put = (): TxnResult[] => {
      if (name === '') throw new Rejected('Must provide node');
      const node = makeNode({ ...spec, Address: spec.Address ?? '' }, { CreateIndex: old?.CreateIndex ?? tx.index, ModifyIndex: tx.index });
      if (!old || !sameContent(old, node)) {
        this.s.nodes.set(name, node);
        this.touch(tx, 'nodes');
        this.bumpNode(tx, name);
        this.bumpServicesOfNode(tx, name);
      }
      return [{ Node: this.s.nodes.get(name)! }];
    };
    switch (o.Verb) {
      case 'get':
        if (!old) throw new Rejected(txnErr.nodeMissing(name));
        return [{ Node: old }];
      case 'set':
        return put();
      case 'cas':
        if (!casAllows(old, spec.ModifyIndex ?? 0)) throw new Rejected(txnErr.nodeStale(name));
        return put();
      case 'delete':
        if (old) this.deleteNode(tx, name);
        return [];
      case 'delete-cas':
        if (!old || old.ModifyIndex !== (spec.ModifyIndex ?? 0)) throw new Rejected(txnErr.nodeDeleteStale(name));
        this.deleteNode(tx, name);
        return [];
      default:
        throw new Rejected(txnErr.unknownVerb('Node', o.Verb));
    }
  }

  private txnService(tx: Tx, { Service: o }: TxnServiceOp): TxnResult[] {
    const node = o.Node;
    const spec = o.Service;
    const id = spec.ID || spec.Service || '';
    const old = innerGet(this.s.services, node, id);
    const put = (): TxnResult[] => {
      if (!spec.Service) throw new Rejected('Must provide service name with ID');
      const { ModifyIndex: _m, ...svc } = spec;
      this.register(tx, { op: 'register', nowMs: tx.nowMs, node: this.existingNodeSpec(node), service: { ...svc, ID: id, Service: spec.Service } });
      return [{ Service: innerGet(this.s.services, node, id)! }];
    };
    switch (o.Verb) {
      case 'get':
        if (!old) throw new Rejected(txnErr.serviceMissing(id, node));
        return [{ Service: old }];
      case 'set':
        return put();
      case 'cas':
        if (!casAllows(old, spec.ModifyIndex ?? 0)) throw new Rejected(txnErr.serviceStale(id, node));
        return put();
      case 'delete':
        this.deleteService(tx, node, id);
        return [];
      case 'delete-cas':
        if (!old || old.ModifyIndex !== (spec.ModifyIndex ?? 0)) throw new Rejected(txnErr.serviceDeleteStale(id, node));
        this.deleteService(tx, node, id);
        return [];
      default:
        throw new Rejected(txnErr.unknownVerb('Service', o.Verb));
    }
  }

  private txnCheck(tx: Tx, { Check: o }: TxnCheckOp): TxnResult[] {
    const spec = o.Check;
    const node = spec.Node;
    const id = spec.CheckID || spec.Name || '';
    const old = innerGet(this.s.checks, node, id);
    const put = (): TxnResult[] => {
      if (id === '') throw new Rejected('Must provide check ID or name');
      const { ModifyIndex: _m, Node: _n, ...check } = spec;
      this.register(tx, { op: 'register', nowMs: tx.nowMs, node: this.existingNodeSpec(node), checks: [{ ...check, CheckID: id, Name: spec.Name || id }] });
      return [{ Check: innerGet(this.s.checks, node, id)! }];
    };
    switch (o.Verb) {
      case 'get':
        if (!old) throw new Rejected(txnErr.checkMissing(id, node));
        return [{ Check: old }];
      case 'set':
        return put();
      case 'cas':
        if (!casAllows(old, spec.ModifyIndex ?? 0)) throw new Rejected(txnErr.checkStale(id, node));
        return put();
      case 'delete':
        if (this.s.nodes.has(node)) this.deleteCheck(tx, node, id);
        return [];
      case 'delete-cas':
        if (!old || old.ModifyIndex !== (spec.ModifyIndex ?? 0)) throw new Rejected(txnErr.checkDeleteStale(id, node));
        this.deleteCheck(tx, node, id);
        return [];
      default:
        throw new Rejected(txnErr.unknownVerb('Check', o.Verb));
    }
  }

  // ------------------------------------------------------------- restore

  /** Replace every table with the snapshot's; indexes move to this apply so blocking reads
   *  wake. Sessions keep their TTLs: the leader re-arms timers from the sessions table. */
  private restoreFrom(tx: Tx, c: RestoreCommand): ApplyResult {
    let next: CatalogState;
    let acl: AclState;
    try {
      const parts = decodeSnapshotParts(c.snapshot);
      next = parts.state;
      acl = parts.acl === undefined ? new AclState() : AclState.fromSnapshot(parts.acl);
    } catch (e) {
      return { ok: false, error: `snapshot restore refused, nothing changed: ${(e as Error).message}` };
    }
    const dropped = this.sessionList().map((s) => s.ID).filter((id) => !next.sessions.has(id));
    next.lastIndex = tx.index;
    next.restoreIndex = tx.index;
    for (const t of Object.keys(next.tableIndex) as TableName[]) next.tableIndex[t] = tx.index;
    this.s = next;
    this.acl = acl;
    this.#changes.add(EVERY_CHANGE);
    return { ok: true, value: true, invalidatedSessions: dropped };
  }

  // --------------------------------------------------------------- reads

  lastIndex(): number {
    return this.s.lastIndex;
  }

  tableIndex(table: TableName): number {
    return this.s.tableIndex[table];
  }

  /** All table indexes (for `consul info`-style output and tests). */
  tableIndexes(): Record<TableName, number> {
    return { ...this.s.tableIndex };
  }

  /** The index a blocking query compares against its ?index= (wake when it is greater). */
  indexFor(watch: CatalogWatch): number {
    return Math.max(this.s.restoreIndex, this.rawIndexFor(watch));
  }

  private rawIndexFor(watch: CatalogWatch): number {
    switch (watch.kind) {
      case 'tables':
        return watch.tables.reduce((m, t) => Math.max(m, this.s.tableIndex[t]), 0);
      case 'service':
        return this.s.serviceIndex.get(watch.service) ?? this.s.entityIndexBase;
      case 'node':
        return this.s.nodeIndex.get(watch.node) ?? this.s.entityIndexBase;
      case 'kvKey':
        return this.kvKeyIndex(watch.key);
      case 'kvPrefix':
        return this.kvIndex(watch.prefix);
      case 'preparedQueries':
        return this.s.preparedQueryIndex;
    }
  }

  nodes(): CatalogNode[] {
    return [...this.s.nodes.keys()].sort(byString).map((n) => this.s.nodes.get(n)!);
  }

  node(name: string): CatalogNode | undefined {
    return this.s.nodes.get(name);
  }

  nodeServices(node: string): CatalogService[] {
    return innerSorted(this.s.services, node);
  }

  nodeChecks(node: string): HealthCheck[] {
    return innerSorted(this.s.checks, node);
  }

  /** /v1/health/node/<node>. */
  nodeHealth(node: string): HealthCheck[] {
    return this.nodeChecks(node);
  }

  services(): Map<string, string[]> {
    const tags = new Map<string, Set<string>>();
    for (const node of [...this.s.services.keys()].sort(byString)) {
      for (const svc of innerSorted(this.s.services, node)) {
        let set = tags.get(svc.Service);
        if (!set) tags.set(svc.Service, (set = new Set()));
        for (const t of svc.Tags) set.add(t);
      }
    }
    const out = new Map<string, string[]>();
    for (const name of [...tags.keys()].sort(byString)) out.set(name, [...tags.get(name)!].sort(byString));
    return out;
  }

  serviceInstances(service: string): ServiceInstance[] {
    const out: ServiceInstance[] = [];
    for (const nodeName of [...this.s.services.keys()].sort(byString)) {
      const node = this.s.nodes.get(nodeName)!;
      const checks = innerSorted(this.s.checks, nodeName);
      for (const svc of innerSorted(this.s.services, nodeName)) {
        if (svc.Service !== service) continue;
        out.push({ Node: node, Service: svc, Checks: checks.filter((ch) => ch.ServiceID === '' || ch.ServiceID === svc.ID) });
      }
    }
    return out;
  }

  /** /v1/health/service/<name>: tag matches case-insensitively (as Consul's tag filter);
   *  passingOnly drops an instance if any of its checks, node checks included, is not passing. */
  healthService(service: string, opts: { tag?: string; passingOnly?: boolean } = {}): ServiceInstance[] {
    const tag = opts.tag?.toLowerCase();
    return this.serviceInstances(service).filter(
      (inst) =>
        (tag === undefined || inst.Service.Tags.some((t) => t.toLowerCase() === tag)) &&
        (!opts.passingOnly || inst.Checks.every((ch) => ch.Status === 'passing')),
    );
  }

  /** /v1/health/checks/<service>: the checks bound to instances of that service. */
  healthChecks(service: string): HealthCheck[] {
    return this.allChecks().filter((ch) => ch.ServiceName === service && ch.ServiceID !== '');
  }

  checksInState(state: HealthStatus | 'any'): HealthCheck[] {
    return this.allChecks().filter((ch) => state === 'any' || ch.Status === state);
  }

  private allChecks(): HealthCheck[] {
    return [...this.s.checks.keys()].sort(byString).flatMap((n) => innerSorted(this.s.checks, n));
  }

  kvGet(key: string): KVEntry | undefined {
    return this.s.kvs.get(key);
  }

  /** ?recurse: every entry whose key starts with prefix, in key order. */
  kvList(prefix: string): KVEntry[] {
    return this.s.kvKeys.withPrefix(prefix).map((k) => this.s.kvs.get(k)!);
  }

  /** ?keys[&separator=]: key names under prefix; with a separator, names are cut after the
   *  first separator following the prefix and deduplicated ("web/subdir/"). */
  kvKeys(prefix: string, separator = ''): string[] {
    const out: string[] = [];
    for (const key of this.s.kvKeys.withPrefix(prefix)) {
      let name = key;
      if (separator !== '') {
        const at = key.indexOf(separator, prefix.length);
        if (at >= 0) name = key.slice(0, at + separator.length);
      }
      // Sorted keys sharing a cut name are adjacent, so comparing with the last suffices.
      if (out[out.length - 1] !== name) out.push(name);
    }
    return out;
  }

  /** Max ModifyIndex of entries and tombstones under prefix; the kvs table index when the
   *  prefix is '' or has neither (so an index never reads as 0 once the table was written). */
  kvIndex(prefix: string): number {
    if (prefix === '') return this.s.tableIndex.kvs;
    let max = 0;
    for (const k of this.s.kvKeys.withPrefix(prefix)) max = Math.max(max, this.s.kvs.get(k)!.ModifyIndex);
    for (const k of this.s.tombstoneKeys.withPrefix(prefix)) max = Math.max(max, this.s.tombstones.get(k)!);
    return max !== 0 ? max : this.s.tableIndex.kvs;
  }

  /** A single key's index: its ModifyIndex, else its tombstone, else the kvs table index. */
  kvKeyIndex(key: string): number {
    return this.s.kvs.get(key)?.ModifyIndex ?? this.s.tombstones.get(key) ?? this.s.tableIndex.kvs;
  }

  /** Proposer time (ms) before which `key` cannot be acquired, if a lock-delay is armed. */
  lockDelayUntil(key: string): number | undefined {
    return this.s.lockDelays.get(key);
  }

  sessionGet(id: string): Session | undefined {
    return this.s.sessions.get(id);
  }

  sessionList(): Session[] {
    return [...this.s.sessions.keys()].sort(byString).map((id) => this.s.sessions.get(id)!);
  }

  sessionsForNode(node: string): Session[] {
    return this.sessionList().filter((s) => s.Node === node);
  }

  /** Sessions with a TTL: the leader arms a timer of TTL × SESSION_TTL_MULTIPLIER for each
   *  (on becoming leader, on create, on renew) and proposes sessionInvalidate on expiry. */
  ttlSessions(): Session[] {
    return this.sessionList().filter((s) => s.TTLMs > 0);
  }

  /** Every prepared query, in ID order (GET /v1/query). */
  preparedQueryList(): PreparedQuery[] {
    return [...this.s.preparedQueries.keys()].sort(byString).map((id) => this.s.preparedQueries.get(id)!);
  }

  /** GET /v1/query/<id>: by ID only (names resolve for execute and explain). */
  preparedQueryGet(id: string): PreparedQuery | undefined {
    return this.s.preparedQueries.get(id) ?? this.s.preparedQueries.get(id.toLowerCase());
  }

  /** Execute and explain: the query an ID or name resolves to, rendered for that name; an
   *  error text (Consul's) when nothing resolves or a template does not render. */
  preparedQueryResolve(idOrName: string, segment = ''): { ok: true; query: PreparedQuery } | { ok: false; error: string } {
    if (idOrName === '') return { ok: false, error: ERR_MISSING_QUERY_ID };
    const found = resolvePreparedQuery(this.preparedQueryList(), idOrName);
    if (!found) return { ok: false, error: 'Query not found' };
    return renderFor(found, idOrName, segment);
  }

  /** GET /v1/query/<id or name>/execute before shuffling, ?near and ?limit (the agent's), and
   *  DNS `<name>.query.<domain>`; null when no query resolves (or it does not render). */
  preparedQueryExecute(idOrName: string, segment = ''): PreparedQueryExecution | null {
    const r = this.preparedQueryResolve(idOrName, segment);
    if (!r.ok) return null;
    return { Query: r.query, Nodes: filterInstances(r.query, this.serviceInstances(r.query.Service.Service)) };
  }

  // ------------------------------------------------------- snapshot/restore

  snapshot(): Uint8Array {
    return encodeSnapshot(this.s, this.acl.isEmpty() ? undefined : this.acl.toSnapshot());
  }

  /** Rebuilds a catalog from snapshot bytes; throws an Error naming what is wrong. */
  static restore(bytes: Uint8Array): CatalogFSM {
    const { state, acl } = decodeSnapshotParts(bytes);
    return new CatalogFSM(state, acl === undefined ? new AclState() : AclState.fromSnapshot(acl));
  }
}

