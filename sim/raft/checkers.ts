// sim/raft/checkers.ts — Raft's safety invariants, checked against every node as the run goes.
//
// Owns: election safety (one leader per term), log matching, leader completeness,
// state-machine safety (one value per applied index, across nodes and lifetimes), apply order,
// commit index never decreasing within a process lifetime, and no acknowledged write lost.
// Must never: influence the run (read-only observers); throw (violations are collected).
import type { RaftEffect, RaftNode } from '../../core/raft/node.ts';

export interface Violation {
  invariant: string;
  detail: string;
  atMs: number;
}

const dec = new TextDecoder();
const text = (b: Uint8Array): string => dec.decode(b);

interface Lifetime {
  lastCommit: number;
  lastApplied: number;
}

export class RaftChecker {
  readonly violations: Violation[] = [];
  private leaders = new Map<number, string>();
  /** index → value committed there, with the highest term that observed the commit. */
  readonly committed = new Map<number, { term: number; data: string; seenInTerm: number }>();
  /** index → value some node applied there (any lifetime). */
  readonly applied = new Map<number, { data: string; by: string }>();
  readonly acked = new Map<number, string>();
  private lifetimes = new Map<string, Lifetime>();
  leaderTerms: { term: number; id: string; atMs: number }[] = [];

  private fail(invariant: string, detail: string, atMs: number): void {
    if (this.violations.length < 20) this.violations.push({ invariant, detail, atMs });
  }

  /** A process (re)started; its volatile state begins again. */
  newLifetime(id: string): void {
    this.lifetimes.set(id, { lastCommit: -1, lastApplied: -1 });
  }

  afterStep(nowMs: number, id: string, node: RaftNode, effects: RaftEffect[]): void {
    const lt = this.lifetimes.get(id) ?? { lastCommit: -1, lastApplied: -1 };
    this.lifetimes.set(id, lt);
    for (const e of effects) {
      if (e.kind === 'restoreSnapshot') {
        lt.lastApplied = e.index;
      } else if (e.kind === 'apply') {
        if (lt.lastApplied >= 0 && e.index <= lt.lastApplied) {
          this.fail('apply order', `${id} applied index ${e.index} after ${lt.lastApplied}`, nowMs);
        }
        lt.lastApplied = e.index;
        const v = text(e.data);
        const prev = this.applied.get(e.index);
        if (prev && prev.data !== v) {
          this.fail('state-machine safety', `index ${e.index}: ${prev.by} applied "${prev.data}" but ${id} applied "${v}"`, nowMs);
        } else if (!prev) this.applied.set(e.index, { data: v, by: id });
      } else if (e.kind === 'stateChange' && e.state === 'Leader') {
        const other = this.leaders.get(e.term);
        if (other !== undefined && other !== id) {
          this.fail('election safety', `two leaders in term ${e.term}: ${other} and ${id}`, nowMs);
        }
        this.leaders.set(e.term, id);
        this.leaderTerms.push({ term: e.term, id, atMs: nowMs });
        this.checkLeaderCompleteness(nowMs, id, node);
      } else if (e.kind === 'proposeResult' && e.ok && e.index !== undefined) {
        const c = this.committed.get(e.index);
        const ent = node.entryAt(e.index);
        const v = ent ? text(ent.data) : c?.data;
        if (v !== undefined) this.acked.set(e.index, v);
      }
    }
    const commit = node.commitIndex;
    if (commit < lt.lastCommit) this.fail('commit index never decreases', `${id} commit went ${lt.lastCommit} → ${commit}`, nowMs);
    // Record newly committed entries (those still in the log).
    for (let i = Math.max(lt.lastCommit + 1, node.firstLogIndex); i <= commit; i++) {
      const ent = node.entryAt(i);
      if (!ent) continue;
      const v = ent.type === 'cmd' ? text(ent.data) : `<${ent.type}>`;
      const prev = this.committed.get(i);
      if (prev && (prev.data !== v || prev.term !== ent.term)) {
        this.fail('state-machine safety', `index ${i} committed as (t${prev.term} "${prev.data}") and as (t${ent.term} "${v}") on ${id}`, nowMs);
      } else if (!prev) this.committed.set(i, { term: ent.term, data: v, seenInTerm: node.term });
    }
    lt.lastCommit = Math.max(lt.lastCommit, commit);
  }

  private checkLeaderCompleteness(nowMs: number, id: string, node: RaftNode): void {
    for (const [i, c] of this.committed) {
      if (c.seenInTerm >= node.term || i < node.firstLogIndex) continue;
      const ent = node.entryAt(i);
      const v = ent ? (ent.type === 'cmd' ? text(ent.data) : `<${ent.type}>`) : null;
      if (!ent || ent.term !== c.term || v !== c.data) {
        this.fail('leader completeness', `${id} leads term ${node.term} without committed index ${i} (t${c.term} "${c.data}")`, nowMs);
        return;
      }
    }
  }

  /** Log matching over every pair of live nodes: same index and term ⇒ identical prefixes. */
  checkLogMatching(nowMs: number, nodes: [string, RaftNode][]): void {
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) {
        const [ia, na] = nodes[a]!;
        const [ib, nb] = nodes[b]!;
        const lo = Math.max(na.firstLogIndex, nb.firstLogIndex);
        let hi = Math.min(na.lastIndex, nb.lastIndex);
        while (hi >= lo && na.termAt(hi) !== nb.termAt(hi)) hi--;
        for (let i = lo; i <= hi; i++) {
          const ea = na.entryAt(i)!;
          const eb = nb.entryAt(i)!;
          if (ea.term !== eb.term || text(ea.data) !== text(eb.data)) {
            this.fail('log matching', `${ia} and ${ib} agree at index ${hi} but differ at ${i}`, nowMs);
            return;
          }
        }
      }
    }
  }

  /** Every acknowledged write is in the final leader's log (or under its snapshot) with its value. */
  checkAckedKept(nowMs: number, leaderId: string, leader: RaftNode): void {
    for (const [i, v] of this.acked) {
      if (i > leader.commitIndex) {
        this.fail('no acknowledged entry lost', `acked index ${i} ("${v}") is beyond leader ${leaderId}'s commit ${leader.commitIndex}`, nowMs);
        return;
      }
      const ent = leader.entryAt(i);
      if (ent && text(ent.data) !== v) {
        this.fail('no acknowledged entry lost', `acked index ${i} was "${v}", leader ${leaderId} holds "${text(ent.data)}"`, nowMs);
        return;
      }
      const ap = this.applied.get(i);
      if (ap && ap.data !== v) {
        this.fail('no acknowledged entry lost', `acked index ${i} was "${v}", ${ap.by} applied "${ap.data}"`, nowMs);
        return;
      }
    }
  }
}
