// test/raft/storage.test.ts — Raft's files: peers.json formats, the checksummed log with torn-tail
// recovery, compaction + restart, snapshots, and the `consul info` raft stats.
import { describe, expect, it } from 'vitest';
import { RaftNode, RaftRecoveryError } from '../../core/raft/node.ts';
import { formatPeersJson, parsePeersJson } from '../../core/raft/peers.ts';
import { encodeEntryRecords, replayLog } from '../../core/raft/storage.ts';
import { goDuration } from '../../core/raft/format.ts';
import { makeRng } from '../../core/rng.ts';
import { MiniNet, cfg, ip } from './mini-net.ts';

const enc = new TextEncoder();
const A = ip(1);
const B = ip(2);
const C = ip(3);

describe('peers.json', () => {
  it('reads the old format, the new format and null', () => {
    expect(parsePeersJson(enc.encode('["10.1.0.2:8300", "10.1.0.1:8300"]'))).toEqual(['10.1.0.2:8300', '10.1.0.1:8300']);
    expect(
      parsePeersJson(enc.encode('[{"id":"adf4238a","address":"10.1.0.1:8300","non_voter":false},{"id":"b","address":"10.1.0.2:8300","non_voter":true}]')),
    ).toEqual(['10.1.0.1:8300']);
    expect(parsePeersJson(enc.encode('null'))).toBeNull();
    expect(parsePeersJson(enc.encode(''))).toBeNull();
    expect(new TextDecoder().decode(formatPeersJson(null))).toBe('null');
    expect(new TextDecoder().decode(formatPeersJson([B, A]))).toBe(`["${A}","${B}"]`);
  });

  it.each([
    ['{"a":1}', /must be a JSON array/],
    ['[1,2', /not valid JSON/],
    ['["10.1.0.1"]', /not an "ip:port"/],
    ['[{"address":"10.1.0.1:8300"}]', /missing "id"/],
    ['["10.1.0.1:8300","10.1.0.1:8300"]', /appears twice/],
    ['[{"id":"a","address":"10.1.0.1:8300","non_voter":true}]', /no voter/],
  ])('malformed %s stops recovery with an error naming the file', (text, why) => {
    const disk = { read: (p: string) => (p === 'raft/peers.json' ? enc.encode(text) : null), list: () => [] };
    let err: unknown;
    try {
      RaftNode.recover(cfg(A), disk);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RaftRecoveryError);
    expect((err as Error).message).toMatch(/^raft\/peers\.json: /);
    expect((err as Error).message).toMatch(why);
  });
});

describe('log file', () => {
  const entries = [1, 2, 3, 4].map((i) => ({ index: i, term: 1, type: 'cmd' as const, data: enc.encode(`v${i}`) }));

  it('a torn or corrupt tail is cut at the last intact record, and recovery rewrites the file', () => {
    const bytes = encodeEntryRecords(entries);
    for (let cut = 1; cut < 20; cut++) {
      const torn = bytes.slice(0, bytes.length - cut);
      const r = replayLog(torn, 0);
      expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3]);
      expect(r.tornReason).not.toBeNull();
    }
    const flipped = bytes.slice();
    flipped[bytes.length - 2] ^= 0xff;
    expect(replayLog(flipped, 0).entries).toHaveLength(3);
    const disk = { read: (p: string) => (p === 'raft/log.bin' ? flipped : null), list: () => [] };
    const n = RaftNode.recover(cfg(A), disk);
    expect(n.lastIndex).toBe(3);
    const eff = n.step(0, { kind: 'start' });
    const repair = eff.find((e) => e.kind === 'persist' && e.path === 'raft/log.bin');
    expect(repair).toMatchObject({ mode: 'replace', sync: true });
    expect(replayLog((repair as { data: Uint8Array }).data, 0).tornReason).toBeNull();
  });

  it('a restart after snapshots and compaction recovers the same log, term, vote and FSM position', () => {
    const net = new MiniNet([A, B, C], { snapshotThreshold: 5, trailingLogs: 2 });
    net.startAll();
    net.elect(A);
    for (let i = 0; i < 23; i++) {
      net.propose(A, i, `x${i}`);
      net.deliverAll();
    }
    net.fire(A, 'raft.heartbeat');
    net.deliverAll();
    const before = net.node(B);
    expect(Number(before.stats(0).last_snapshot_index)).toBeGreaterThan(0);
    const again = RaftNode.recover(cfg(B), net.disks.get(B)!, { rng: makeRng('r') });
    const eff = again.step(0, { kind: 'start' });
    expect(again.term).toBe(before.term);
    expect(again.vote).toBe(before.vote);
    expect(again.lastIndex).toBe(before.lastIndex);
    for (let i = again.firstLogIndex; i <= again.lastIndex; i++) expect(again.termAt(i)).toBe(before.termAt(i));
    const restore = eff.find((e) => e.kind === 'restoreSnapshot');
    expect(restore).toMatchObject({ index: Number(before.stats(0).last_snapshot_index) });
    expect(again.commitIndex).toBe((restore as { index: number }).index);
  });

  it('a follower that fell behind the leader\'s compacted log gets InstallSnapshot and catches up', () => {
    const net = new MiniNet([A, B, C], { snapshotThreshold: 4, trailingLogs: 0 });
    net.startAll();
    net.elect(A);
    net.filter = (_f, to) => to !== C;
    for (let i = 0; i < 12; i++) {
      net.propose(A, i, `y${i}`);
      net.deliverAll();
    }
    // The first snapshot was lost with the partition; it is re-sent once the transfer times out.
    net.filter = () => true;
    net.now = 1500;
    net.fire(A, 'raft.heartbeat');
    net.deliverAll();
    net.now = 1550;
    net.fire(A, 'raft.heartbeat');
    net.deliverAll();
    expect(net.effects.get(C)!.some((e) => e.kind === 'restoreSnapshot')).toBe(true);
    expect(net.node(C).lastIndex).toBe(net.node(A).lastIndex);
    expect(net.node(C).commitIndex).toBe(net.node(A).commitIndex);
  });
});

describe('consul info raft stats', () => {
  it('a fresh server prints what the walkthrough shows', () => {
    const n = new RaftNode(cfg(A), { peers: [], rng: makeRng('s') });
    expect(n.stats(0)).toEqual({
      applied_index: '0', commit_index: '0', fsm_pending: '0', last_contact: 'never', last_log_index: '0', last_log_term: '0',
      last_snapshot_index: '0', last_snapshot_term: '0', num_peers: '0', state: 'Follower', term: '0',
    });
  });

  it("num_peers excludes self; last_contact is 'never' until a leader was heard, 0 on a leader that had, a Go duration on followers", () => {
    const net = new MiniNet([A, B]);
    net.startAll();
    net.now = 1000;
    net.elect(A);
    // hashicorp/raft: the walkthrough's freshly elected leader never heard one, so 'never'.
    expect(net.node(A).stats(1000)).toMatchObject({ state: 'Leader', num_peers: '1', last_contact: 'never', term: '1' });
    expect(net.node(B).stats(1008.475242).last_contact).toBe('8.475242ms');
    net.now = 2000;
    net.elect(B);
    expect(net.node(B).stats(2000)).toMatchObject({ state: 'Leader', last_contact: '0', term: '2' });
  });

  it('formats durations like Go', () => {
    expect(goDuration(8.475242)).toBe('8.475242ms');
    expect(goDuration(0.5)).toBe('500µs');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(125000)).toBe('2m5s');
  });
});
