// test/raft/quorum.test.ts — table tests of Raft's majority maths (core/raft/quorum.ts).
import { describe, expect, it } from 'vitest';
import { countVoters, hasMajority, majority, majorityOfEither, quorumValue, tallyVotes } from '../../core/raft/quorum.ts';

describe('majority', () => {
  it.each([
    [0, 1],
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [6, 4],
    [7, 4],
  ])('of %i voters is %i', (n, q) => expect(majority(n)).toBe(q));
});

describe('quorumValue (commit index from match indexes)', () => {
  it.each<[number[], number | null]>([
    [[], null],
    [[7], 7],
    [[5, 3], 3],
    [[5, 3, 9], 5],
    [[1, 1, 1], 1],
    [[0, 0, 4], 0],
    [[10, 2, 8, 6], 6],
    [[10, 2, 8, 6, 4], 6],
    [[3, 9, 9, 1, 9], 9],
    [[-Infinity, 100, 50], 50],
  ])('%j → %s', (acked, want) => expect(quorumValue(acked)).toBe(want));

  it('does not reorder its argument', () => {
    const a = [1, 3, 2];
    quorumValue(a);
    expect(a).toEqual([1, 3, 2]);
  });
});

describe('tallyVotes', () => {
  const v3 = ['a', 'b', 'c'];
  const v4 = ['a', 'b', 'c', 'd'];
  it.each<[string[], [string, boolean][], number, number, string]>([
    [v3, [['a', true]], 1, 0, 'pending'],
    [v3, [['a', true], ['b', true]], 2, 0, 'won'],
    [v3, [['a', true], ['b', false]], 1, 1, 'pending'],
    [v3, [['a', true], ['b', false], ['c', false]], 1, 2, 'lost'],
    [v4, [['a', true], ['b', true]], 2, 0, 'pending'],
    [v4, [['a', true], ['b', false], ['c', false]], 1, 2, 'pending'],
    [v4, [['a', true], ['b', true], ['c', true]], 3, 0, 'won'],
    [v4, [['b', false], ['c', false], ['d', false]], 0, 3, 'lost'],
    // Answers from outside the configuration never count.
    [v3, [['a', true], ['x', true], ['y', true]], 1, 0, 'pending'],
    [[], [['a', true]], 0, 0, 'pending'],
    [['a'], [['a', true]], 1, 0, 'won'],
  ])('%j with %j: %i granted, %i refused, %s', (voters, votes, granted, rejected, result) => {
    expect(tallyVotes(voters, new Map(votes))).toEqual({ granted, rejected, result });
  });
});

describe('hasMajority / countVoters / majorityOfEither', () => {
  const has = (ids: string[]) => (v: string) => ids.includes(v);
  it.each<[string[], string[], number, boolean]>([
    [[], ['a'], 0, false],
    [['a'], ['a'], 1, true],
    [['a', 'b'], ['a'], 1, false],
    [['a', 'b', 'c'], ['a', 'c'], 2, true],
    [['a', 'b', 'c', 'd'], ['a', 'c'], 2, false],
    [['a', 'b', 'c', 'd', 'e'], ['b', 'd', 'e', 'z'], 3, true],
  ])('%j acked by %j: %i voters, majority %s', (voters, acked, n, want) => {
    expect(countVoters(voters, has(acked))).toBe(n);
    expect(hasMajority(voters, has(acked))).toBe(want);
  });

  it('a single-server change: the old or the new configuration will do', () => {
    const old = ['a', 'b', 'c'];
    const added = ['a', 'b', 'c', 'd'];
    expect(majorityOfEither(old, added, has(['a', 'b']))).toBe(true); // old majority only
    expect(majorityOfEither(old, added, has(['c', 'd']))).toBe(false);
    expect(majorityOfEither(['a', 'b'], ['a'], has(['a']))).toBe(true); // the new one after a removal
  });
});
