// test/raft/invariants.test.ts — the assertions inside the Raft machine fire on the states they
// guard against (core/raft/invariants.ts, context.ts), on both sides of the disk boundary, and
// stay quiet where a planted bug switch breaks the invariant on purpose.
import { describe, expect, it } from 'vitest';
import { RaftContext } from '../../core/raft/context.ts';
import { RaftInvariantError, checkEntriesOut, checkRecovered } from '../../core/raft/invariants.ts';
import { RaftLog } from '../../core/raft/log.ts';
import { RaftNode, RaftRecoveryError, type Entry } from '../../core/raft/node.ts';
import { encodeEntryRecords, encodeHardState } from '../../core/raft/storage.ts';
import { makeRng } from '../../core/rng.ts';
import { violationFromError } from '../../sim/fuzz/violation.ts';
import { cfg } from './mini-net.ts';

const A = '10.0.0.1:8300';
const B = '10.0.0.2:8300';
const enc = new TextEncoder();
const entry = (index: number, term: number): Entry => ({ index, term, type: 'cmd', data: enc.encode(`v${index}`) });

function ctx(opts: { term?: number; entries?: Entry[]; bugs?: Parameters<typeof cfg>[1] } = {}): RaftContext {
  return new RaftContext(cfg(A, opts.bugs), makeRng('t'), { term: opts.term ?? 0, vote: null, log: new RaftLog(0, 0, opts.entries ?? []), peers: [A, B], snapshot: null });
}

const broken = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftInvariantError) return e.invariant;
    throw e;
  }
  return 'none';
};

describe('assertions on state changes', () => {
  it('term never decreases', () => {
    const c = ctx({ term: 4 });
    expect(broken(() => c.setTerm(5))).toBe('none');
    expect(broken(() => c.setTerm(3))).toBe('term never decreases');
  });

  it('one vote per term, unless the double-vote bug is planted', () => {
    const c = ctx({ term: 2 });
    c.setVote(A);
    expect(broken(() => c.setVote(A))).toBe('none');
    expect(broken(() => c.setVote(B))).toBe('one vote per term');
    const bug = ctx({ term: 2, bugs: { bugs: { doubleVote: true } } });
    bug.setVote(A);
    expect(broken(() => bug.setVote(B))).toBe('none');
  });

  it('commit never moves back nor past the log; a leader counts only durable entries', () => {
    const c = ctx({ term: 1, entries: [entry(1, 1), entry(2, 1)] });
    c.setCommit(2);
    expect(broken(() => c.setCommit(1))).toBe('commit never moves back');
    expect(broken(() => c.setCommit(3))).toBe('commit never passes the log');
    const l = ctx({ term: 1 });
    l.role = 'Leader';
    l.appendInMemory(entry(1, 1)); // in memory, not yet written
    expect(broken(() => l.setCommit(1))).toBe('a leader counts only its durable entries');
    l.persistEntries([l.log.entry(1)!]);
    expect(broken(() => l.setCommit(1))).toBe('none');
  });

  it('a leader appends only its own term and never truncates; terms never decrease along the log', () => {
    const l = ctx({ term: 3, entries: [entry(1, 2)] });
    l.role = 'Leader';
    expect(broken(() => l.appendInMemory(entry(2, 2)))).toBe('a leader appends only entries of its term');
    expect(broken(() => l.truncateFrom(1))).toBe('a leader never overwrites its log');
    const f = ctx({ term: 3, entries: [entry(1, 2)] });
    expect(broken(() => f.appendInMemory(entry(2, 1)))).toBe('terms never decrease along the log');
  });

  it('committed entries are never truncated', () => {
    const f = ctx({ term: 1, entries: [entry(1, 1), entry(2, 1)] });
    f.setCommit(1);
    expect(broken(() => f.truncateFrom(1))).toBe('committed entries are never truncated');
    expect(broken(() => f.truncateFrom(2))).toBe('none');
  });
});

describe('persisted before send (the durability ledger)', () => {
  it('a message carries only a durable term', () => {
    const c = ctx({ term: 1 });
    c.currentTerm = 2; // changed without writing it
    expect(broken(() => c.send(B, { t: 'raft.heartbeatResp', term: 2, ctx: 0, sentMs: 0 }))).toBe('a message carries a durable term');
    c.persistHardState();
    expect(broken(() => c.send(B, { t: 'raft.heartbeatResp', term: 2, ctx: 0, sentMs: 0 }))).toBe('none');
    // A pre-vote asks about a term nobody wrote: allowed.
    expect(broken(() => c.send(B, { t: 'raft.vote', term: 3, candidate: A, lastLogIndex: 0, lastLogTerm: 0, pre: true, transfer: false }))).toBe('none');
  });

  it('a granted vote is durable before it is sent (unless no-fsync-vote is planted)', () => {
    const grant = { t: 'raft.voteResp' as const, term: 0, granted: true, pre: false };
    const c = ctx();
    c.setVote(B);
    expect(broken(() => c.send(B, grant))).toBe('a granted vote is durable before it is sent');
    c.persistHardState(false); // written without sync: not durable
    expect(broken(() => c.send(B, grant))).toBe('a granted vote is durable before it is sent');
    c.persistHardState(true);
    expect(broken(() => c.send(B, grant))).toBe('none');
    const bug = ctx({ bugs: { bugs: { noFsyncVote: true } } });
    bug.setVote(B);
    bug.persistHardState(false);
    expect(broken(() => bug.send(B, grant))).toBe('none');
  });

  it('acknowledged entries are durable', () => {
    const c = ctx({ term: 1 });
    c.appendInMemory(entry(1, 1));
    const ack = { t: 'raft.appendResp' as const, term: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0 };
    expect(broken(() => c.send(B, ack))).toBe('acknowledged entries are durable');
    c.persistEntries([c.log.entry(1)!]);
    expect(broken(() => c.send(B, ack))).toBe('none');
    expect(broken(() => c.persistEntries([entry(3, 1)]))).toBe('log records are written without gaps');
  });
});

describe('the disk boundary', () => {
  it('before writing: records are consecutive with terms that never decrease', () => {
    expect(broken(() => checkEntriesOut(A, [entry(1, 1), entry(3, 1)]))).toBe('log records are consecutive');
    expect(broken(() => checkEntriesOut(A, [entry(1, 2), entry(2, 1)]))).toBe('terms never decrease along the log');
    expect(broken(() => checkEntriesOut(A, [entry(1, 0)]))).toBe('entry index and term are positive integers');
  });

  it('after reading back: a log whose terms go back, or pass the recorded term, is refused with a clear error', () => {
    expect(() => checkRecovered(5, [entry(1, 2), entry(2, 1)], { index: 0, term: 0 })).toThrow(/raft\/log\.bin: entry 2 has term 1 after term 2/);
    expect(() => checkRecovered(1, [entry(1, 2)], { index: 0, term: 0 })).toThrow(/raft\/state\.bin: records current term 1 but raft\/log\.bin holds an entry of term 2/);
    expect(() => checkRecovered(null, [entry(1, 2)], { index: 0, term: 0 })).not.toThrow();
    const disk = (files: Record<string, Uint8Array>) => ({ read: (p: string) => files[p] ?? null, list: () => [] });
    const files = { 'raft/state.bin': encodeHardState(1, null), 'raft/log.bin': encodeEntryRecords([entry(1, 1), entry(2, 3)]) };
    expect(() => RaftNode.recover(cfg(A), disk(files))).toThrow(RaftRecoveryError);
    const ok = { 'raft/state.bin': encodeHardState(3, null), 'raft/log.bin': encodeEntryRecords([entry(1, 1), entry(2, 3)]) };
    expect(RaftNode.recover(cfg(A), disk(ok)).lastIndex).toBe(2);
  });
});

describe('a broken assertion in a fuzz run', () => {
  it('is reported under its invariant name', () => {
    let err: unknown;
    try {
      ctx({ term: 4 }).setTerm(1);
    } catch (e) {
      err = e;
    }
    expect(violationFromError(err, 12).invariant).toBe('assertion: term never decreases');
    expect(violationFromError(new Error('boom'), 12).invariant).toBe('no exception');
  });
});
