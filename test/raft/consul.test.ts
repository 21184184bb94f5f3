// test/raft/consul.test.ts — Consul 0.5's peer-set behaviour as the walkthrough shows it (steps 1,
// 3, 4 and 5), driven directly on RaftNodes with in-memory disks.
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../core/raft/node.ts';
import { makeRng } from '../../core/rng.ts';
import { MiniNet, cfg, logs, mkNode, recv, sends } from './mini-net.ts';

const N1 = '10.10.105.71:8300';
const N2 = '10.10.126.101:8300';
const dec = new TextDecoder();
const enc = new TextEncoder();
const ABORT = '[WARN] raft: EnableSingleNode disabled, and no known peers. Aborting election.';

function twoServers(): MiniNet {
  const net = new MiniNet([]);
  net.add(mkNode(N1, []));
  net.add(mkNode(N2, []));
  net.startAll();
  return net;
}

describe('"no known peers" is logged at most once per second per node', () => {
  it('repeats only after a second, and at once after the peer set changes', () => {
    const net = twoServers();
    const count = (id: string): number => logs(net.fire(id, 'raft.election')).filter((l) => l === ABORT).length;
    const seen: number[] = [];
    for (const t of [0, 300, 650, 999, 1000, 1400, 2100]) {
      net.now = t;
      seen.push(count(N1));
    }
    // Election timeouts every 300–600 ms would log 2–3×/s; hashicorp/raft logs ~once per 1–2 s.
    expect(seen).toEqual([1, 0, 0, 0, 1, 0, 1]);
    // Another node keeps its own clock.
    expect(count(N2)).toBe(1);
    // A peer-set change (here: leave, which clears it) shows the line again straight away.
    net.step(N1, { kind: 'leave' });
    net.now = 2200;
    expect(count(N1)).toBe(1);
  });
});

describe('walkthrough', () => {
  it('step 1: servers without peers never campaign; bootstrap then elects n2 with Tally 2', () => {
    const net = twoServers();
    for (const id of [N1, N2]) {
      const eff = net.fire(id, 'raft.election');
      expect(logs(eff)).toContain(ABORT);
      expect(net.node(id).state).toBe('Follower');
      expect(net.node(id).term).toBe(0);
    }
    for (const id of [N1, N2]) net.step(id, { kind: 'bootstrap', peers: [N2, N1] });
    expect(dec.decode(net.disks.get(N1)!.read('raft/peers.json')!)).toBe(JSON.stringify([N1, N2].sort()));
    net.elect(N2);
    const l = logs(net.effects.get(N2)!);
    expect(l).toContain('[WARN] raft: Heartbeat timeout reached, starting election');
    expect(l).toContain(`[INFO] raft: Node at ${N2} [Candidate] entering Candidate state`);
    expect(l).toContain('[INFO] raft: Election won. Tally: 2');
    expect(l).toContain(`[INFO] raft: Node at ${N2} [Leader] entering Leader state`);
    expect(l).toContain(`[INFO] raft: pipelining replication to peer ${N1}`);
    expect(net.node(N1).leader).toBe(N2);
    expect(net.node(N2).stats(0)).toMatchObject({ state: 'Leader', num_peers: '1', term: '1' });
  });

  it('steps 3–5: the leader leaves (n1 stays leaderless), restarts alone on a null peers.json, and manual recovery elects again', () => {
    const net = twoServers();
    for (const id of [N1, N2]) net.step(id, { kind: 'bootstrap', peers: [N1, N2] });
    net.elect(N2);
    for (let i = 0; i < 3; i++) net.propose(N2, i, `w${i}`);
    net.deliverAll();

    // step 3: consul leave on the leader
    const mark = net.effects.get(N2)!.length;
    net.step(N2, { kind: 'leave' });
    net.deliverAll();
    const l = logs(net.effects.get(N2)!.slice(mark));
    const removed = l.findIndex((x) => x.startsWith(`[INFO] raft: Removed peer ${N1}, stopping replication (Index: `));
    const ourself = l.indexOf('[INFO] raft: Removed ourself, transitioning to follower');
    const follower = l.indexOf(`[INFO] raft: Node at ${N2} [Follower] entering Follower state`);
    expect(removed).toBeGreaterThanOrEqual(0);
    expect(ourself).toBeGreaterThan(removed);
    expect(follower).toBeGreaterThan(ourself);
    expect(dec.decode(net.disks.get(N2)!.read('raft/peers.json')!)).toBe('null');
    // n1 is left with a peer set it cannot win alone: no leader, no campaign.
    expect(logs(net.fire(N1, 'raft.election'))).toContain(ABORT);
    expect(net.node(N1).leader).toBeNull();
    expect(net.node(N1).state).toBe('Follower');

    // step 4: restarted, n2 stays alone — and bootstrap is refused because Raft data exists.
    const n2 = RaftNode.recover(cfg(N2), net.disks.get(N2)!, { rng: makeRng('n2b') });
    net.add(n2);
    net.step(N2, { kind: 'start' });
    expect(n2.peers).toEqual([]);
    expect(logs(net.fire(N2, 'raft.election'))).toContain(ABORT);
    expect(logs(net.step(N2, { kind: 'bootstrap', peers: [N1, N2] }))).toContain('[WARN] raft: Raft data found, ignoring bootstrap');

    // step 5: the operator writes the same peers.json on both and restarts them.
    const list = enc.encode(JSON.stringify([N2, N1]));
    for (const id of [N1, N2]) net.disks.get(id)!.files.set('raft/peers.json', list);
    for (const id of [N1, N2]) {
      net.add(RaftNode.recover(cfg(id), net.disks.get(id)!, { rng: makeRng(`${id}/r`) }));
      net.step(id, { kind: 'start' });
    }
    net.elect(N2);
    expect(logs(net.effects.get(N2)!)).toContain('[INFO] raft: Election won. Tally: 2');
    expect(net.node(N2).state).toBe('Leader');
    expect(net.node(N1).leader).toBe(N2);
    net.propose(N2, 99, 'after-recovery');
    net.deliverAll();
    expect(net.effects.get(N2)!.some((e) => e.kind === 'proposeResult' && e.reqId === 99 && e.ok)).toBe(true);
  });

  it('a follower that hears a live leader rejects votes in Consul\'s words (CheckQuorum on)', () => {
    const a = new RaftNode({ ...cfg(N1), checkQuorum: true }, { peers: [N1, N2, '10.0.0.9:8300'], rng: makeRng('a') });
    recv(a, 0, N2, { t: 'raft.heartbeat', term: 1, leader: N2, commit: 0, ctx: 0, sentMs: 0 });
    const eff = recv(a, 10, N2, { t: 'raft.vote', term: 2, candidate: N2, lastLogIndex: 0, lastLogTerm: 0, pre: false, transfer: false });
    expect(logs(eff)).toContain(`[WARN] raft: Rejecting vote from ${N2} since we have a leader: ${N2}`);
    expect(sends(eff)[0]!.msg).toMatchObject({ granted: false });
    expect(a.term).toBe(1);
  });

  it('an unreachable RequestVote is logged as Consul does', () => {
    const a = mkNode(N1, [N1, N2]);
    a.step(0, { kind: 'timer', name: 'raft.election' });
    const eff = a.step(1, { kind: 'unreachable', to: N2, via: 'tcp', reason: 'reset', msg: { t: 'raft.vote', term: 1, candidate: N1, lastLogIndex: 0, lastLogTerm: 0, pre: false, transfer: false } });
    expect(logs(eff)).toContain(`[ERR] raft: Failed to make RequestVote RPC to ${N2}: EOF`);
  });

  it('propose on a follower names the leader; with no leader it is "No cluster leader"', () => {
    const net = new MiniNet([N1, N2]);
    const r0 = net.step(N1, { kind: 'propose', reqId: 1, data: enc.encode('x') });
    expect(r0).toContainEqual({ kind: 'proposeResult', reqId: 1, ok: false, error: 'No cluster leader' });
    net.startAll();
    net.elect(N2);
    const r1 = net.step(N1, { kind: 'propose', reqId: 2, data: enc.encode('x') });
    expect(r1).toContainEqual({ kind: 'proposeResult', reqId: 2, ok: false, error: 'not leader', leader: N2 });
  });
});

describe('reads, transfer, membership', () => {
  const A = '10.0.0.1:8300';
  const B = '10.0.0.2:8300';
  const C = '10.0.0.3:8300';

  it('ReadIndex resolves after a quorum round; a lease read resolves at once while the lease holds', () => {
    const net = new MiniNet([A, B, C], { checkQuorum: true });
    net.startAll();
    net.elect(A);
    const r = net.step(A, { kind: 'read', reqId: 5, mode: 'readIndex' });
    expect(r.some((e) => e.kind === 'readResult')).toBe(false);
    net.deliverAll();
    expect(net.effects.get(A)!.some((e) => e.kind === 'readResult' && e.reqId === 5 && e.ok)).toBe(true);
    net.now = 10;
    const lease = net.step(A, { kind: 'read', reqId: 6, mode: 'lease' });
    expect(lease.some((e) => e.kind === 'readResult' && e.reqId === 6 && e.ok)).toBe(true);
    net.now = 10_000; // far past the lease: falls back to a ReadIndex round
    const stale = net.step(A, { kind: 'read', reqId: 7, mode: 'lease' });
    expect(stale.some((e) => e.kind === 'readResult')).toBe(false);
  });

  it('leadership transfer hands over with TimeoutNow', () => {
    const net = new MiniNet([A, B, C], { checkQuorum: true, preVote: true });
    net.startAll();
    net.elect(A);
    net.step(A, { kind: 'transferLeadership', to: C });
    net.deliverAll();
    expect(net.node(C).state).toBe('Leader');
    expect(net.node(A).state).toBe('Follower');
    expect(net.node(A).leader).toBe(C);
  });

  it('single-server changes: add then remove a peer, one at a time, peers.json rewritten', () => {
    const D = '10.0.0.4:8300';
    const net = new MiniNet([A, B, C]);
    net.add(mkNode(D, []));
    net.startAll();
    net.elect(A);
    net.step(A, { kind: 'addPeer', addr: D, reqId: 1 });
    const busy = net.step(A, { kind: 'removePeer', addr: B, reqId: 2 });
    expect(busy).toContainEqual({ kind: 'proposeResult', reqId: 2, ok: false, error: 'configuration change in progress', leader: A });
    net.deliverAll();
    expect(net.effects.get(A)!.some((e) => e.kind === 'proposeResult' && e.reqId === 1 && e.ok)).toBe(true);
    expect(net.node(D).peers).toEqual([A, B, C, D]);
    expect(dec.decode(net.disks.get(C)!.read('raft/peers.json')!)).toBe(JSON.stringify([A, B, C, D]));
    net.step(A, { kind: 'removePeer', addr: B, reqId: 3 });
    net.deliverAll();
    expect(net.node(A).peers).toEqual([A, C, D]);
    expect(dec.decode(net.disks.get(C)!.read('raft/peers.json')!)).toBe(JSON.stringify([A, C, D]));
    // The leader stops replicating to a removed server at once, so commits need only the new set.
    const out = net.propose(A, 4, 'without-b');
    expect(sends(out).map((s) => s.to).sort()).toEqual([C, D]);
    net.deliverAll();
    expect(net.effects.get(A)!.some((e) => e.kind === 'proposeResult' && e.reqId === 4 && e.ok)).toBe(true);
  });
});
