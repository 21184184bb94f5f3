// core/rng.ts — seeded randomness with independent named streams.
//
// Owns: the Rng interface every machine receives, and its one implementation (seedrandom's
// alea generator, which is pure and never touches a system entropy source).
// Must never: fall back to Math.random or crypto; every stream is derived from a seed.
//
// Streams are derived by label (`rng.fork('n1/raft')`), not by drawing from the parent,
// so adding a subsystem never shifts the numbers another subsystem sees: a recorded seed
// keeps replaying the same run after unrelated code changes.
import alea from 'seedrandom/lib/alea.js';

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). n must be a positive integer. */
  int(n: number): number;
  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[];
  /** An independent stream named by label; same seed + same label ⇒ same stream. */
  fork(label: string): Rng;
  /** The seed string this stream was made from (for printing). */
  readonly seed: string;
}

interface AleaPrng {
  (): number;
}

class AleaRng implements Rng {
  private readonly prng: AleaPrng;
  constructor(readonly seed: string) {
    this.prng = (alea as unknown as (seed: string) => AleaPrng)(seed);
  }
  next(): number {
    return this.prng();
  }
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`rng.int needs a positive integer, got ${n}`);
    return Math.floor(this.prng() * n);
  }
  range(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`rng.range: hi ${hi} < lo ${lo}`);
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.prng() < p;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
  fork(label: string): Rng {
    return new AleaRng(`${this.seed}/${label}`);
  }
}

export function makeRng(seed: string | number): Rng {
  return new AleaRng(String(seed));
}
