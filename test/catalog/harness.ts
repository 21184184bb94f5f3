// test/catalog/harness.ts — a catalog FSM with a Raft index counter and a clock, for tests.
import type { TxnResponse } from '../../core/catalog/commands.ts';
import type { ApplyResult, Command } from '../../core/catalog/commands.ts';
import { CatalogFSM } from '../../core/catalog/fsm.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Cmd = DistributiveOmit<Command, 'nowMs'> & { nowMs?: number };

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

export class Harness {
  fsm = new CatalogFSM();
  index = 0;
  nowMs = 1_000_000;

  apply(cmd: Cmd): ApplyResult {
    return this.fsm.apply(++this.index, { ...cmd, nowMs: cmd.nowMs ?? this.nowMs } as Command);
  }

  /** Apply and insist it succeeded; returns the boolean value. */
  ok(cmd: Cmd): boolean {
    const r = this.apply(cmd);
    if (!r.ok) throw new Error(`expected ${cmd.op} to succeed, got error: ${r.error}`);
    if (typeof r.value !== 'boolean') throw new Error(`expected ${cmd.op} to give a boolean; use txn() for transactions`);
    return r.value;
  }

  /** Apply a transaction; returns Consul's TxnResponse. */
  txn(ops: unknown[]): TxnResponse {
    const r = this.apply({ op: 'txn', ops } as Cmd);
    if (!r.ok) throw new Error(`expected txn to apply, got error: ${r.error}`);
    return r.value as TxnResponse;
  }

  /** Apply and insist it failed; returns the error string. */
  err(cmd: Cmd): string {
    const r = this.apply(cmd);
    if (r.ok) throw new Error(`expected ${cmd.op} to fail, got value ${r.value}`);
    return r.error;
  }

  /** A node with a serfHealth check in the given state. */
  node(name: string, serf: 'passing' | 'warning' | 'critical' = 'passing', address = `10.0.0.${name.length}`): void {
    this.ok({ op: 'register', node: { Node: name, Address: address }, checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: serf }] });
  }

  /** Create a session; returns its ID. */
  session(id: string, node: string, extra: Partial<Extract<Cmd, { op: 'sessionCreate' }>> = {}): string {
    this.ok({ op: 'sessionCreate', id, node, ...extra });
    return id;
  }
}
