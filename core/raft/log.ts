// core/raft/log.ts — the in-memory view of the Raft log behind a snapshot.
//
// Owns: index arithmetic over entries (snapshotIndex+1 … lastIndex), term lookup, slicing,
// suffix truncation and prefix compaction.
// Must never: decide anything about commit or persistence; the node does that.
import type { Entry } from './types.ts';

export class RaftLog {
  /** entries[i].index === snapshotIndex + 1 + i */
  private entries: Entry[] = [];
  snapshotIndex = 0;
  snapshotTerm = 0;

  constructor(snapshotIndex = 0, snapshotTerm = 0, entries: Entry[] = []) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = entries.slice();
  }

  get firstIndex(): number {
    return this.snapshotIndex + 1;
  }
  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }
  get lastTerm(): number {
    return this.entries.length ? this.entries[this.entries.length - 1]!.term : this.snapshotTerm;
  }

  /** Term at index; null when compacted away or beyond the end. */
  term(index: number): number | null {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex) return null;
    if (index === 0) return 0;
    return this.entries[index - this.snapshotIndex - 1]!.term;
  }

  entry(index: number): Entry | null {
    if (index <= this.snapshotIndex || index > this.lastIndex) return null;
    return this.entries[index - this.snapshotIndex - 1]!;
  }

  /** Entries in [lo, hi] (inclusive), at most max of them. lo must be > snapshotIndex. */
  slice(lo: number, hi: number, max: number): Entry[] {
    const from = Math.max(lo, this.firstIndex);
    const to = Math.min(hi, this.lastIndex, from + max - 1);
    if (to < from) return [];
    return this.entries.slice(from - this.snapshotIndex - 1, to - this.snapshotIndex);
  }

  append(e: Entry): void {
    if (e.index !== this.lastIndex + 1) throw new Error(`raft log: append of index ${e.index} after ${this.lastIndex}`);
    this.entries.push(e);
  }

  /** Remove entries ≥ index. */
  truncateFrom(index: number): void {
    if (index <= this.snapshotIndex) {
      this.entries = [];
      return;
    }
    this.entries.length = Math.max(0, index - this.snapshotIndex - 1);
  }

  /** First index that holds `term` at or before `index`, walking back while the term stays equal. */
  firstIndexOfTermAt(index: number): number {
    const t = this.term(index);
    let i = index;
    while (i - 1 > this.snapshotIndex && this.term(i - 1) === t) i--;
    return i;
  }

  /** Last index whose term is `term`, or 0 if the log has none. */
  lastIndexOfTerm(term: number): number {
    for (let i = this.lastIndex; i > this.snapshotIndex; i--) {
      const t = this.term(i)!;
      if (t === term) return i;
      if (t < term) return 0;
    }
    return 0;
  }

  /** Drop entries ≤ index (they are covered by a snapshot at index/term). Entries after stay
   *  only if they extend that snapshot (same term at index); otherwise the log restarts there. */
  compactTo(index: number, term: number): void {
    if (index <= this.snapshotIndex) return;
    if (this.term(index) === term) {
      this.entries = this.entries.slice(index - this.snapshotIndex);
    } else {
      this.entries = [];
    }
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  all(): Entry[] {
    return this.entries.slice();
  }
}
