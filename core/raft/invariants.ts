// core/raft/invariants.ts — assertions of Raft's invariants inside the machine (TigerBeetle style).
//
// Owns: the error a broken invariant throws (RaftInvariantError: a bug in this code, never bad
// input), the checks made as state changes (term never decreases, one vote per term, commit
// never moves back nor past the log, applied never passes commit, a leader only appends entries
// of its own term and never truncates), the durability ledger that proves "persisted before
// send" (a message carries only a durable term, a granted vote only a durable vote, an append
// acknowledgment only durable entries, a leader counts only its own durable entries), and the
// checks of what crosses the disk boundary in both directions (encoding: well-formed terms,
// indexes and votes; reading back: a log that is contiguous, whose terms never decrease and
// never pass the recorded term).
// Must never: fire on a run of correct code; a planted bug switch (RaftBugs) that breaks an
// invariant on purpose turns off the assertion for exactly that invariant, so the fuzzers'
// external checkers are what catches it.
import type { Entry } from './types.ts';
import { RaftRecoveryError } from './peers.ts';
import { LOG_PATH, STATE_PATH } from './storage.ts';

export class RaftInvariantError extends Error {
  constructor(
    readonly node: string,
    readonly invariant: string,
    detail: string,
  ) {
    super(`raft invariant broken on ${node}: ${invariant}: ${detail}`);
    this.name = 'RaftInvariantError';
  }
}

export function check(cond: boolean, node: string, invariant: string, detail: () => string): void {
  if (!cond) throw new RaftInvariantError(node, invariant, detail());
}

/** What this node's disk holds for sure: the host carries effects out in order, so a synced
 *  `persist` pushed before a `send` is on disk when the message leaves. */
export interface Durable {
  term: number;
  vote: string | null;
  /** Last log index whose record (and all before it) was written with sync. */
  lastIndex: number;
}

const isTerm = (t: number): boolean => Number.isSafeInteger(t) && t >= 0;
const isIndex = (i: number): boolean => Number.isSafeInteger(i) && i >= 1;

/** Before writing term + vote. */
export function checkHardStateOut(node: string, term: number, vote: string | null): void {
  check(isTerm(term), node, 'term is a non-negative integer', () => `writing term ${term}`);
  check(vote === null || (typeof vote === 'string' && vote !== ''), node, 'vote is null or a server id', () => `writing vote ${JSON.stringify(vote)}`);
}

/** Before writing log records: indexes consecutive from the first, terms ≥ 1 and non-decreasing. */
export function checkEntriesOut(node: string, entries: readonly Entry[]): void {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    check(isIndex(e.index) && isIndex(e.term), node, 'entry index and term are positive integers', () => `writing entry ${e.index}/t${e.term}`);
    const prev = entries[i - 1];
    if (prev) {
      check(e.index === prev.index + 1, node, 'log records are consecutive', () => `entry ${e.index} written after ${prev.index}`);
      check(e.term >= prev.term, node, 'terms never decrease along the log', () => `entry ${e.index}/t${e.term} after ${prev.index}/t${prev.term}`);
    }
  }
}

/** After reading the raft/ files back (the log as recovered, behind its base; term null when
 *  there is no state file): what a correct node can have written, else a clear error. */
export function checkRecovered(term: number | null, entries: readonly Entry[], base: { index: number; term: number }): void {
  if (term !== null && !isTerm(term)) throw new RaftRecoveryError(STATE_PATH, `holds term ${term}; a term is a non-negative integer — the state file is damaged`);
  let prev = base;
  for (const e of entries) {
    if (!isIndex(e.index) || !isIndex(e.term)) throw new RaftRecoveryError(LOG_PATH, `holds entry ${e.index}/t${e.term}; index and term must be positive integers — the log is damaged`);
    if (e.term < prev.term) {
      throw new RaftRecoveryError(LOG_PATH, `entry ${e.index} has term ${e.term} after term ${prev.term}; terms never decrease along a Raft log — the log is damaged`);
    }
    prev = e;
  }
  // Without a state file there is no recorded term to hold the log against.
  if (term !== null && prev.term > term) {
    throw new RaftRecoveryError(STATE_PATH, `records current term ${term} but ${LOG_PATH} holds an entry of term ${prev.term}; the term is always written first — the state file or the log is damaged`);
  }
}
