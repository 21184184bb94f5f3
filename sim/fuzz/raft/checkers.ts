// sim/fuzz/raft/checkers.ts — Raft's safety invariants, checked against every node as the run goes.
//
// Owns: election safety (one leader per term), vote safety (a server grants at most one
// candidate per term, across its crashes), log matching, leader completeness, state-machine
// safety (one value per applied index, across nodes and lifetimes), apply order, commit index
// never decreasing within a process lifetime, and no acknowledged write lost. With membership
// changes, quorums are per configuration: a leader must have been granted votes by a majority
// of the peer set it holds when it wins, and an entry a leader commits must then be held by a
// majority of the leader's peer set (ground truth: the servers' own logs, not the leader's view).
// Must never: influence the run (read-only observers); throw (violations are collected).
import type { RaftEffect, RaftNode } from '../../../core/raft/node.ts';
import { hasMajority } from '../../../core/raft/quorum.ts';
import type { Violation } from '../violation.ts';

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
  /** `${term}/${voter}` → the candidate it granted (a non-pre vote) in that term. */
  private votes = new Map<string, string>();
  /** Every server's current node (crashed ones included: all log writes are synced, so the
   *  in-memory log of a dead process is what its disk holds). Set by the cluster. */
  allNodes: (() => [string, RaftNode][]) | null = null;
  private leaderCommit = new Map<string, number>();

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
      if (e.kind === 'send') {
        const m = e.msg as { t?: string; granted?: boolean; pre?: boolean; term?: number };
        if (m.t === 'raft.voteResp' && m.granted && !m.pre) this.noteVote(nowMs, id, m.term!, e.to);
      } else if (e.kind === 'restoreSnapshot') {
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
        this.checkElectionQuorum(nowMs, id, node, e.term);
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
    if (node.state === 'Leader') this.checkCommitQuorum(nowMs, id, node);
  }

  /** Figure 2: votedFor is durable, so a server votes for at most one candidate per term. */
  private noteVote(nowMs: number, voter: string, term: number, candidate: string): void {
    const key = `${term}/${voter}`;
    const prev = this.votes.get(key);
    if (prev !== undefined && prev !== candidate) {
      this.fail('vote safety', `${voter} granted its term-${term} vote to ${prev} and to ${candidate}`, nowMs);
    } else this.votes.set(key, candidate);
  }

  /** A leader was granted votes by a majority of the peer set it holds when it wins. Votes
   *  seen sent are an upper bound of the votes it received, so this can only under-report. */
  private checkElectionQuorum(nowMs: number, id: string, node: RaftNode, term: number): void {
    const peers = node.peers;
    if (peers.length === 0) return;
    const voted = (p: string): boolean => p === id || this.votes.get(`${term}/${p}`) === id;
    if (!hasMajority(peers, voted)) {
      const n = peers.filter(voted).length;
      this.fail('election quorum', `${id} leads term ${term} with ${n} vote(s) from its ${peers.length}-server peer set [${peers.join(', ')}]`, nowMs);
    }
  }

  /** When a leader's commit index moves, a majority of its peer set holds the entry there. */
  private checkCommitQuorum(nowMs: number, id: string, node: RaftNode): void {
    const commit = node.commitIndex;
    const key = `${node.term}/${id}`;
    const before = this.leaderCommit.get(key);
    this.leaderCommit.set(key, commit);
    // The commit index a server brings into its leadership was learnt as a follower.
    if (before === undefined || commit <= before || !this.allNodes) return;
    const term = node.termAt(commit);
    if (term === null) return;
    const byId = new Map(this.allNodes());
    const peers = node.peers;
    if (peers.length === 0) return;
    let holders = 0;
    const lacking: string[] = [];
    const holds = (p: string): boolean => {
      const n = p === id ? node : byId.get(p);
      return !!n && (commit < n.firstLogIndex ? n.commitIndex >= commit : n.termAt(commit) === term);
    };
    for (const p of peers) {
      const n = p === id ? node : byId.get(p);
      if (holds(p)) holders++;
      else lacking.push(`${p} (last ${n?.lastIndex ?? '?'}/t${n?.lastTerm ?? '?'})`);
    }
    if (!hasMajority(peers, holds)) {
      this.fail('commit quorum', `${id} (term ${node.term}) committed index ${commit} (t${term}) held by only ${holders} of its ${peers.length}-server peer set; lacking: ${lacking.join(', ')}`, nowMs);
    }
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
