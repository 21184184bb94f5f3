// core/catalog/txn.ts — the vocabulary of /v1/txn: verbs, which of them only read, and
// Consul's per-operation error texts.
//
// Owns: deciding whether a transaction is read-only (Consul then answers it from the local
// state without Raft), the op kind of each TxnOp, and the error strings clients match.
// Must never: touch catalog state; execution lives in CatalogFSM (fsm.ts, "transactions").
import type { TxnOp } from './commands.ts';

export type TxnKind = 'KV' | 'Node' | 'Service' | 'Check';

export const KV_VERBS = [
  'set',
  'cas',
  'lock',
  'unlock',
  'get',
  'get-or-empty',
  'get-tree',
  'check-index',
  'check-session',
  'check-not-exists',
  'delete',
  'delete-tree',
  'delete-cas',
] as const;
export const CATALOG_VERBS = ['set', 'cas', 'get', 'delete', 'delete-cas'] as const;

const KV_READS = new Set(['get', 'get-or-empty', 'get-tree', 'check-index', 'check-session', 'check-not-exists']);

export function txnKind(op: TxnOp): TxnKind {
  if ('KV' in op) return 'KV';
  if ('Node' in op) return 'Node';
  if ('Service' in op) return 'Service';
  return 'Check';
}

export function txnVerb(op: TxnOp): string {
  if ('KV' in op) return op.KV.Verb;
  if ('Node' in op) return op.Node.Verb;
  if ('Service' in op) return op.Service.Verb;
  return op.Check.Verb;
}

/** Consul's isReadOnly: every op a read (KV gets and checks, catalog gets). */
export function txnReadOnly(ops: readonly TxnOp[]): boolean {
  return ops.every((op) => ('KV' in op ? KV_READS.has(op.KV.Verb) : txnVerb(op) === 'get'));
}

/** Consul's state-store texts (agent/consul/state/txn.go, kvs.go). */
export const txnErr = {
  unknownVerb: (kind: TxnKind, verb: string) => `unknown ${kind} verb ${JSON.stringify(verb)}`,
  keyStale: (key: string) => `failed to set key ${JSON.stringify(key)}, index is stale`,
  keyDeleteStale: (key: string) => `failed to delete key ${JSON.stringify(key)}, index is stale`,
  lockHeld: (key: string) => `failed to lock key ${JSON.stringify(key)}, lock is already held`,
  unlockNotHeld: (key: string) => `failed to unlock key ${JSON.stringify(key)}, lock isn't held, or is held by another session`,
  keyMissing: (key: string) => `key ${JSON.stringify(key)} doesn't exist`,
  keyExists: (key: string) => `key ${JSON.stringify(key)} exists`,
  sessionKeyMissing: (key: string) => `failed to check session, key ${JSON.stringify(key)} doesn't exist`,
  sessionMismatch: (key: string, have: string, want: string) =>
    `failed session check for key ${JSON.stringify(key)}, current session ${JSON.stringify(have)} != ${JSON.stringify(want)}`,
  indexKeyMissing: (key: string) => `failed to check index, key ${JSON.stringify(key)} doesn't exist`,
  indexMismatch: (key: string, have: number, want: number) =>
    `failed index check for key ${JSON.stringify(key)}, current modify index ${have} != ${want}`,
  nodeMissing: (node: string) => `node ${JSON.stringify(node)} doesn't exist`,
  nodeStale: (node: string) => `failed to set node ${JSON.stringify(node)}, index is stale`,
  nodeDeleteStale: (node: string) => `failed to delete node ${JSON.stringify(node)}, index is stale`,
  serviceMissing: (id: string, node: string) => `service ${JSON.stringify(id)} on node ${JSON.stringify(node)} doesn't exist`,
  serviceStale: (id: string, node: string) => `failed to set service ${JSON.stringify(id)} on node ${JSON.stringify(node)}, index is stale`,
  serviceDeleteStale: (id: string, node: string) =>
    `failed to delete service ${JSON.stringify(id)} on node ${JSON.stringify(node)}, index is stale`,
  checkMissing: (id: string, node: string) => `check ${JSON.stringify(id)} on node ${JSON.stringify(node)} doesn't exist`,
  checkStale: (id: string, node: string) => `failed to set check ${JSON.stringify(id)} on node ${JSON.stringify(node)}, index is stale`,
  checkDeleteStale: (id: string, node: string) =>
    `failed to delete check ${JSON.stringify(id)} on node ${JSON.stringify(node)}, index is stale`,
};

/** CAS rule shared by nodes, services and checks (Consul's ensure*CASTxn): index 0 means
 *  "only if absent"; otherwise the record must exist with that ModifyIndex. */
export function casAllows(existing: { ModifyIndex: number } | undefined, index: number): boolean {
  if (index === 0) return existing === undefined;
  return existing !== undefined && existing.ModifyIndex === index;
}
