// test/core/rng.test.ts — the seeded Rng: reproducible, forks independent and stable, bounds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeRng, type Rng } from '../../core/rng.ts';
import { checkProperty } from '../codec/prop.ts';

const FILE = 'test/core/rng.test.ts';

/** A mixed sequence of draws, so every method takes part in the comparison. */
function script(rng: Rng, n = 50): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    out.push(rng.next(), rng.int(1000), rng.range(-5, 5), rng.chance(0.3), rng.shuffle([1, 2, 3, 4, 5]));
  }
  return out;
}

const draws = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.next());

describe('reproducibility', () => {
  it('same seed gives the same sequence; number and string seeds agree', () => {
    expect(script(makeRng('seed-1'))).toEqual(script(makeRng('seed-1')));
    expect(script(makeRng(42))).toEqual(script(makeRng('42')));
    expect(makeRng(42).seed).toBe('42');
  });

  it('different seeds give different sequences', () => {
    expect(draws(makeRng('a'), 20)).not.toEqual(draws(makeRng('b'), 20));
  });

  it('next() is in [0, 1)', () => {
    const rng = makeRng('unit');
    for (const x of draws(rng, 20_000)) {
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});

describe('forks', () => {
  it('same seed and label give the same stream; different labels differ', () => {
    expect(draws(makeRng('s').fork('n1/raft'), 30)).toEqual(draws(makeRng('s').fork('n1/raft'), 30));
    expect(draws(makeRng('s').fork('n1/raft'), 30)).not.toEqual(draws(makeRng('s').fork('n2/raft'), 30));
    expect(draws(makeRng('s').fork('x'), 30)).not.toEqual(draws(makeRng('t').fork('x'), 30));
    expect(makeRng('s').fork('n1/raft').seed).toBe('s/n1/raft');
  });

  it('a fork does not depend on how much the parent has drawn', () => {
    const fresh = draws(makeRng('p').fork('gossip'), 30);
    const parent = makeRng('p');
    draws(parent, 1234);
    expect(draws(parent.fork('gossip'), 30)).toEqual(fresh);
  });

  it('adding a fork (and drawing from it) does not shift the parent or a sibling', () => {
    const baseline = makeRng('world');
    const raft = baseline.fork('raft');
    const expectedParent = draws(baseline, 20);
    const expectedRaft = draws(raft, 20);

    const world = makeRng('world');
    const raft2 = world.fork('raft');
    const extra = world.fork('new-subsystem');
    draws(extra, 500);
    expect(draws(world, 20)).toEqual(expectedParent);
    expect(draws(raft2, 20)).toEqual(expectedRaft);
  });

  it('forks are not the parent stream and not each other (no shared prefix)', () => {
    const rng = makeRng('q');
    const a = draws(rng.fork('a'), 10);
    const b = draws(rng.fork('b'), 10);
    const p = draws(makeRng('q'), 10);
    expect(a.some((x) => b.includes(x) || p.includes(x))).toBe(false);
  });

  it('nested forks are stable', () => {
    expect(draws(makeRng(7).fork('n1').fork('swim'), 10)).toEqual(draws(makeRng(7).fork('n1').fork('swim'), 10));
  });
});

describe('bounds', () => {
  it('int(n) is an integer in [0, n)', () => {
    checkProperty(FILE, fc.property(fc.string(), fc.integer({ min: 1, max: 2 ** 31 }), (seed, n) => {
      const rng = makeRng(seed);
      for (let i = 0; i < 50; i++) {
        const x = rng.int(n);
        if (!Number.isInteger(x) || x < 0 || x >= n) return false;
      }
      return true;
    }), 500);
  });

  it('int(1) is always 0 and int hits every value of a small range', () => {
    const rng = makeRng('small');
    for (let i = 0; i < 100; i++) expect(rng.int(1)).toBe(0);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(rng.int(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('int is roughly uniform (chi-square, 6 buckets, 60k draws)', () => {
    const rng = makeRng('uniform');
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]!++;
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(20.5); // p ≈ 0.001 for 5 degrees of freedom
  });

  it('int rejects non-positive and non-integer n', () => {
    const rng = makeRng('bad');
    for (const n of [0, -1, 1.5, NaN, Infinity]) expect(() => rng.int(n)).toThrow(/positive integer/);
  });

  it('range(lo, hi) is inclusive on both ends', () => {
    checkProperty(FILE, fc.property(fc.string(), fc.integer({ min: -1000, max: 1000 }), fc.nat(50), (seed, lo, span) => {
      const rng = makeRng(seed);
      const seen = new Set<number>();
      for (let i = 0; i < 40 * (span + 1); i++) {
        const x = rng.range(lo, lo + span);
        if (!Number.isInteger(x) || x < lo || x > lo + span) return false;
        seen.add(x);
      }
      return seen.has(lo) && seen.has(lo + span);
    }), 200);
    expect(() => makeRng(1).range(5, 4)).toThrow(/hi 4 < lo 5/);
    expect(makeRng(1).range(3, 3)).toBe(3);
  });

  it('chance(p) respects 0, 1 and the rate in between', () => {
    const rng = makeRng('chance');
    for (let i = 0; i < 1000; i++) {
      expect(rng.chance(0)).toBe(false);
      expect(rng.chance(1)).toBe(true);
    }
    let hits = 0;
    for (let i = 0; i < 20_000; i++) if (rng.chance(0.25)) hits++;
    expect(Math.abs(hits / 20_000 - 0.25)).toBeLessThan(0.02);
  });
});

describe('shuffle', () => {
  it('returns a permutation of a copy and leaves the input alone', () => {
    checkProperty(FILE, fc.property(fc.string(), fc.array(fc.integer(), { maxLength: 60 }), (seed, items) => {
      const before = items.slice();
      const out = makeRng(seed).shuffle(items);
      if (out === items) return false;
      if (JSON.stringify(items) !== JSON.stringify(before)) return false;
      const sort = (a: number[]): number[] => a.slice().sort((x, y) => x - y);
      return JSON.stringify(sort(out)) === JSON.stringify(sort(items));
    }), 500);
  });

  it('is deterministic per seed and reaches every ordering of three items', () => {
    expect(makeRng('s').shuffle([...'abcdefgh'])).toEqual(makeRng('s').shuffle([...'abcdefgh']));
    const rng = makeRng('perms');
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) seen.add(rng.shuffle(['a', 'b', 'c']).join(''));
    expect([...seen].sort()).toEqual(['abc', 'acb', 'bac', 'bca', 'cab', 'cba']);
  });
});
