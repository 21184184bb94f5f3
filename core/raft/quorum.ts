// core/raft/quorum.ts — the majority maths of Raft, in one leaf (etcd-io/raft's quorum package).
//
// Owns: the size of a majority, the highest index a majority has acknowledged (commit index
// from match indexes, lease start from acknowledged send times), vote tallies and their
// outcome, and "does a majority of this configuration satisfy P".
// Configurations: Muster changes membership one server at a time (Raft dissertation §4.1), so a
// configuration is one voter list; there is no joint (old+new) configuration to count. Any two
// majorities of configurations one server apart overlap, which is what the single-server rule
// relies on; `majorityOfEither` is the check for the moment a change is appended.
// Must never: know about roles, messages or logs; every function is pure over its arguments.

/** How many of `voters` voters make a majority (1 of 1, 2 of 3, 3 of 4, 3 of 5). */
export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The largest value v such that a majority of the voters acknowledged at least v: with
 * `acked[i]` the match index of voter i, the commit index a leader may use (before the
 * Figure-8 rule); with send times, the start of a lease. null for an empty configuration.
 */
export function quorumValue(acked: readonly number[]): number | null {
  if (acked.length === 0) return null;
  const sorted = [...acked].sort((a, b) => b - a);
  return sorted[majority(acked.length) - 1]!;
}

/** How many of `voters` satisfy `has`. */
export function countVoters(voters: readonly string[], has: (voter: string) => boolean): number {
  let n = 0;
  for (const v of voters) if (has(v)) n++;
  return n;
}

/** A majority of `voters` satisfies `has` (false for an empty configuration). */
export function hasMajority(voters: readonly string[], has: (voter: string) => boolean): boolean {
  return voters.length > 0 && countVoters(voters, has) >= majority(voters.length);
}

/** While a single-server change is in flight either configuration's majority will do: they overlap. */
export function majorityOfEither(a: readonly string[], b: readonly string[], has: (voter: string) => boolean): boolean {
  return hasMajority(a, has) || hasMajority(b, has);
}

export type VoteResult = 'won' | 'lost' | 'pending';

export interface Tally {
  granted: number;
  rejected: number;
  result: VoteResult;
}

/**
 * Count the answers of `voters` (answers from servers outside the configuration do not count).
 * Won as soon as a majority granted; lost once a majority refused; pending otherwise.
 */
export function tallyVotes(voters: readonly string[], votes: ReadonlyMap<string, boolean>): Tally {
  const granted = countVoters(voters, (v) => votes.get(v) === true);
  const rejected = countVoters(voters, (v) => votes.get(v) === false);
  const q = majority(voters.length);
  const result: VoteResult = granted >= q ? 'won' : rejected >= q ? 'lost' : 'pending';
  return { granted, rejected, result };
}
