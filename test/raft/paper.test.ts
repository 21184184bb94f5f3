// test/raft/paper.test.ts — one test per sentence of the Raft paper (Ongaro & Ousterhout 2014),
// in the manner of etcd's raft_paper_test.go. RaftNode is driven directly; no network.
import { describe, expect, it } from 'vitest';
import { RaftNode, type AppendEntriesMsg, type RaftMessage } from '../../core/raft/node.ts';
import { MiniNet, cfg, ip, logs, mkNode, recv, sends } from './mini-net.ts';
import { makeRng } from '../../core/rng.ts';

const A = ip(1);
const B = ip(2);
const C = ip(3);
const ALL = [A, B, C];

function append(term: number, leader: string, prevLogIndex: number, prevLogTerm: number, entries: [number, number][], leaderCommit = 0): AppendEntriesMsg {
  return {
    t: 'raft.append',
    term,
    leader,
    prevLogIndex,
    prevLogTerm,
    entries: entries.map(([index, t]) => ({ index, term: t, type: 'cmd' as const, data: new TextEncoder().encode(`e${index}`) })),
    leaderCommit,
  };
}

describe('§5.1 terms', () => {
  it('"If one server’s current term is smaller than the other’s, then it updates its current term to the larger value" (follower)', () => {
    const n = mkNode(A, ALL);
    n.step(0, { kind: 'start' });
    recv(n, 1, B, append(2, B, 0, 0, []));
    expect(n.term).toBe(2);
    expect(n.state).toBe('Follower');
    expect(n.leader).toBe(B);
  });

  it('"If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state"', () => {
    const net = new MiniNet(ALL);
    net.startAll();
    net.elect(A);
    expect(net.node(A).state).toBe('Leader');
    const t = net.node(A).term;
    recv(net.node(A), 1, C, { t: 'raft.heartbeatResp', term: t + 3, ctx: 0, sentMs: 0 });
    expect(net.node(A).state).toBe('Follower');
    expect(net.node(A).term).toBe(t + 3);

    const c = mkNode(B, ALL);
    c.step(0, { kind: 'timer', name: 'raft.election' });
    expect(c.state).toBe('Candidate');
    recv(c, 1, C, append(c.term + 1, C, 0, 0, []));
    expect(c.state).toBe('Follower');
    expect(c.leader).toBe(C);
  });

  it('"If a server receives a request with a stale term number, it rejects the request"', () => {
    const n = mkNode(A, ALL);
    recv(n, 0, B, append(5, B, 0, 0, []));
    const eff = recv(n, 1, C, append(3, C, 0, 0, [[1, 3]]));
    expect(n.term).toBe(5);
    expect(n.lastIndex).toBe(0);
    const out = sends(eff);
    expect(out).toHaveLength(1);
    expect(out[0]!.msg.term).toBe(5);
  });
});

describe('§5.2 leader election', () => {
  it('"When servers start up, they begin as followers" and say so in Consul\'s words', () => {
    const n = mkNode(A, ALL);
    const eff = n.step(0, { kind: 'start' });
    expect(n.state).toBe('Follower');
    expect(logs(eff)).toContain(`[INFO] raft: Node at ${A} [Follower] entering Follower state`);
  });

  it('"A leader sends periodic heartbeats to all followers"', () => {
    const net = new MiniNet(ALL);
    net.startAll();
    net.elect(A);
    const out = sends(net.fire(A, 'raft.heartbeat'));
    expect(out.filter((s) => s.msg.t === 'raft.heartbeat').map((s) => s.to).sort()).toEqual([B, C]);
  });

  it('"a follower increments its current term and transitions to candidate state … votes for itself and issues RequestVote RPCs in parallel"', () => {
    const n = mkNode(A, ALL);
    n.step(0, { kind: 'start' });
    const eff = n.step(500, { kind: 'timer', name: 'raft.election' });
    expect(n.state).toBe('Candidate');
    expect(n.term).toBe(1);
    expect(n.vote).toBe(A);
    const votes = sends(eff).filter((s) => s.msg.t === 'raft.vote');
    expect(votes.map((v) => v.to).sort()).toEqual([B, C]);
    // term+vote durable (synced) before the first RequestVote leaves
    const persistAt = eff.findIndex((e) => e.kind === 'persist' && e.path === 'raft/state.bin' && e.sync);
    const sendAt = eff.findIndex((e) => e.kind === 'send');
    expect(persistAt).toBeGreaterThanOrEqual(0);
    expect(persistAt).toBeLessThan(sendAt);
    expect(logs(eff)).toContain('[WARN] raft: Heartbeat timeout reached, starting election');
  });

  it('"A candidate wins an election if it receives votes from a majority of the servers" (one round)', () => {
    const net = new MiniNet(ALL);
    net.startAll();
    net.elect(A);
    expect(net.node(A).state).toBe('Leader');
    expect(logs(net.effects.get(A)!)).toContain('[INFO] raft: Election won. Tally: 2');
    expect(net.node(B).leader).toBe(A);
  });

  it('a candidate rejected by a majority returns to follower', () => {
    const net = new MiniNet(ALL);
    net.startAll();
    net.node(B).step(0, { kind: 'receive', from: C, port: 8300, via: 'tcp', msg: append(1, C, 0, 0, [[1, 1]]) });
    net.node(C).step(0, { kind: 'receive', from: B, port: 8300, via: 'tcp', msg: append(1, B, 0, 0, [[1, 1]]) });
    // A has an empty log at term 1 → 2; B and C have a term-1 entry, so A's log is behind.
    net.elect(A);
    expect(net.node(A).state).toBe('Follower');
  });

  it('"Each server will vote for at most one candidate in a given term, on a first-come-first-served basis"', () => {
    const n = mkNode(A, ALL);
    const vote = (cand: string): RaftMessage => ({ t: 'raft.vote', term: 1, candidate: cand, lastLogIndex: 0, lastLogTerm: 0, pre: false, transfer: false });
    const r1 = sends(recv(n, 0, B, vote(B)))[0]!.msg;
    const r2 = sends(recv(n, 1, C, vote(C)))[0]!.msg;
    const r3 = sends(recv(n, 2, B, vote(B)))[0]!.msg;
    expect(r1).toMatchObject({ granted: true });
    expect(r2).toMatchObject({ granted: false });
    expect(r3).toMatchObject({ granted: true }); // the same candidate again (a retry) is fine
  });

  it('the double-vote bug switch breaks exactly that sentence', () => {
    const n = new RaftNode(cfg(A, { bugs: { doubleVote: true } }), { peers: ALL, rng: makeRng('x') });
    const vote = (cand: string): RaftMessage => ({ t: 'raft.vote', term: 1, candidate: cand, lastLogIndex: 0, lastLogTerm: 0, pre: false, transfer: false });
    recv(n, 0, B, vote(B));
    expect(sends(recv(n, 1, C, vote(C)))[0]!.msg).toMatchObject({ granted: true });
  });

  it('"Raft uses randomized election timeouts" drawn from [T, 2T)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const n = new RaftNode(cfg(A), { peers: ALL, rng: makeRng(`r${i}`) });
      const t = n.step(0, { kind: 'start' }).find((e) => e.kind === 'timer')!;
      const at = (t as { atMs: number }).atMs;
      const T = n.config.electionTimeoutMs;
      expect(at).toBeGreaterThanOrEqual(T);
      expect(at).toBeLessThan(2 * T);
      seen.add(at);
    }
    expect(seen.size).toBeGreaterThan(20);
  });

  it('a candidate that hears AppendEntries from a leader of its term returns to follower', () => {
    const c = mkNode(B, ALL);
    c.step(0, { kind: 'timer', name: 'raft.election' });
    recv(c, 1, C, append(c.term, C, 0, 0, []));
    expect(c.state).toBe('Follower');
    expect(c.term).toBe(1);
  });
});

describe('§5.3 log replication', () => {
  it('"Once the entry has been safely replicated … the leader applies the entry" and answers the client', () => {
    const net = new MiniNet(ALL);
    net.startAll();
    net.elect(A);
    const index = net.node(A).lastIndex + 1;
    const eff = net.propose(A, 7, 'x=1');
    expect(eff.some((e) => e.kind === 'proposeResult')).toBe(false); // not before a majority has it
    net.deliverAll();
    const res = net.effects.get(A)!.find((e) => e.kind === 'proposeResult');
    expect(res).toMatchObject({ reqId: 7, ok: true, index });
    expect(net.applied.get(A)!.map((a) => a.data)).toEqual(['x=1']);
    net.fire(A, 'raft.heartbeat');
    net.deliverAll();
    expect(net.applied.get(B)!.map((a) => a.data)).toEqual(['x=1']);
  });

  it('the leader writes its new entries in the same batch as it sends them (followers persist in parallel, thesis §10.2.1), and a follower persists before acknowledging', () => {
    const net = new MiniNet(ALL);
    net.startAll();
    net.elect(A);
    const eff = net.propose(A, 1, 'y');
    const p = eff.findIndex((e) => e.kind === 'persist' && e.path === 'raft/log.bin' && e.sync);
    const s = eff.findIndex((e) => e.kind === 'send');
    expect(p).toBeGreaterThanOrEqual(0);
    expect(s).toBeGreaterThanOrEqual(0);
    // Nothing acknowledges the entry to a client before the leader's own write.
    const ack = eff.findIndex((e) => e.kind === 'proposeResult' || e.kind === 'apply');
    if (ack >= 0) expect(p).toBeLessThan(ack);
    const msg = sends(eff).find((x) => x.to === B)!.msg;
    const f = recv(net.node(B), 1, A, msg);
    const fp = f.findIndex((e) => e.kind === 'persist' && e.path === 'raft/log.bin' && e.sync);
    const fs = f.findIndex((e) => e.kind === 'send');
    expect(fp).toBeLessThan(fs);
  });

  it('proposals in one batch share one log write and one sync (group commit)', () => {
    const net = new MiniNet(ALL);
    net.startAll();
    net.elect(A);
    const eff = net.node(A).step(10, {
      kind: 'proposeBatch',
      items: [1, 2, 3].map((reqId) => ({ reqId, data: new TextEncoder().encode(`v${reqId}`) })),
    });
    const writes = eff.filter((e) => e.kind === 'persist' && e.path === 'raft/log.bin');
    expect(writes).toHaveLength(1);
    const appends = sends(eff).filter((x) => x.to === B);
    expect(appends.flatMap((x) => (x.msg as { entries: unknown[] }).entries)).toHaveLength(3);
  });

  it('"If a follower does not find an entry in its log with the same index and term, then it refuses the new entries" (with conflict hints)', () => {
    const n = mkNode(A, ALL);
    recv(n, 0, B, append(2, B, 0, 0, [[1, 1], [2, 1], [3, 2]]));
    const out = sends(recv(n, 1, B, append(3, B, 3, 3, [[4, 3]])))[0]!.msg;
    expect(out).toMatchObject({ t: 'raft.appendResp', success: false, rejectedIndex: 3, conflictTerm: 2, conflictIndex: 3 });
    const short = sends(recv(n, 2, B, append(3, B, 9, 3, [])))[0]!.msg;
    expect(short).toMatchObject({ success: false, conflictTerm: 0, conflictIndex: 4 });
  });

  it('"If an existing entry conflicts with a new one … delete the existing entry and all that follow it"', () => {
    const n = mkNode(A, ALL);
    recv(n, 0, B, append(2, B, 0, 0, [[1, 1], [2, 2], [3, 2]]));
    const eff = recv(n, 1, C, append(3, C, 1, 1, [[2, 3]]));
    expect(n.lastIndex).toBe(2);
    expect(n.termAt(2)).toBe(3);
    expect(eff.some((e) => e.kind === 'persist' && e.mode === 'append')).toBe(true);
    // a duplicate of an already-held prefix never truncates
    recv(n, 2, C, append(3, C, 0, 0, [[1, 1]]));
    expect(n.lastIndex).toBe(2);
  });

  it('the leader backs off fast to the follower\'s conflict point', () => {
    const net = new MiniNet(ALL);
    // B has a long divergent tail from an old term
    recv(net.node(B), 0, C, append(1, C, 0, 0, [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]]));
    net.startAll();
    let rounds = 0;
    net.filter = (_f, _t, m) => {
      if (m.t === 'raft.append') rounds++;
      return true;
    };
    recv(net.node(A), 0, C, append(1, C, 0, 0, [[1, 1]]));
    recv(net.node(C), 0, C, append(1, C, 0, 0, [[1, 1]]));
    net.elect(A);
    expect(net.node(A).state).toBe('Leader');
    expect(net.node(B).lastIndex).toBe(net.node(A).lastIndex);
    expect(net.node(B).termAt(2)).toBe(net.node(A).term);
    expect(rounds).toBeLessThan(8);
  });
});

describe('§5.4 safety', () => {
  it('"the voter denies its vote if its own log is more up-to-date than that of the candidate"', () => {
    const n = mkNode(A, ALL);
    recv(n, 0, B, append(2, B, 0, 0, [[1, 1], [2, 2]]));
    const v = (lastLogIndex: number, lastLogTerm: number): RaftMessage => ({ t: 'raft.vote', term: 5, candidate: C, lastLogIndex, lastLogTerm, pre: false, transfer: false });
    expect(sends(recv(n, 1, C, v(9, 1)))[0]!.msg).toMatchObject({ granted: false }); // older last term
    expect(sends(recv(n, 2, C, v(1, 2)))[0]!.msg).toMatchObject({ granted: false }); // same term, shorter
    expect(sends(recv(n, 3, C, v(2, 2)))[0]!.msg).toMatchObject({ granted: true });
  });

  it('"Raft never commits log entries from previous terms by counting replicas" (Figure 8)', () => {
    // A becomes leader of term 3 holding an uncommitted term-2 entry at index 1.
    const a = mkNode(A, ALL);
    recv(a, 0, B, append(2, B, 0, 0, [[1, 2]]));
    a.step(1, { kind: 'timer', name: 'raft.election' });
    for (const p of [B, C]) recv(a, 2, p, { t: 'raft.voteResp', term: a.term, granted: true, pre: false });
    expect(a.state).toBe('Leader');
    // B acknowledges index 1 only (not A's own no-op at index 2).
    recv(a, 3, B, { t: 'raft.appendResp', term: a.term, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0 });
    expect(a.commitIndex).toBe(0);
    recv(a, 4, B, { t: 'raft.appendResp', term: a.term, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0 });
    expect(a.commitIndex).toBe(2);

    const bad = new RaftNode(cfg(A, { bugs: { commitOldTerm: true } }), { peers: ALL, rng: makeRng('b') });
    recv(bad, 0, B, append(2, B, 0, 0, [[1, 2]]));
    bad.step(1, { kind: 'timer', name: 'raft.election' });
    for (const p of [B, C]) recv(bad, 2, p, { t: 'raft.voteResp', term: bad.term, granted: true, pre: false });
    recv(bad, 3, B, { t: 'raft.appendResp', term: bad.term, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0 });
    expect(bad.commitIndex).toBe(1);
  });

  it('a follower never overwrites an entry it knows is committed', () => {
    const n = mkNode(A, ALL);
    recv(n, 0, B, append(2, B, 0, 0, [[1, 2], [2, 2]], 2));
    expect(n.commitIndex).toBe(2);
    recv(n, 1, C, append(3, C, 0, 0, [[1, 3]]));
    expect(n.termAt(1)).toBe(2);
  });

  it('the no-fsync-vote bug switch sends the vote with an unsynced state write', () => {
    const n = new RaftNode(cfg(A, { bugs: { noFsyncVote: true } }), { peers: ALL, rng: makeRng('n') });
    const eff = recv(n, 0, B, { t: 'raft.vote', term: 0, candidate: B, lastLogIndex: 0, lastLogTerm: 0, pre: false, transfer: false });
    const p = eff.find((e) => e.kind === 'persist' && e.path === 'raft/state.bin');
    expect(p).toMatchObject({ sync: false });
  });
});
