// sim/trace.ts — the simulated world's trace: the record that proves a run is deterministic.
//
// Owns: hashing trace entries (sha256, incremental) and keeping the last lines for failure
// reports.
// Must never: read a clock or any randomness; hash anything that is not derived from the seed.
//
// What is hashed:
//   * traceEnabled = true:  every trace line — one per executed event ("<t> <label>") plus
//     every line added with traceLine()/note() (process stdout, drops, faults, …) — each
//     followed by '\n'.
//   * traceEnabled = false: event lines are never formatted. Instead each executed event
//     folds (time in µs, event type code, target host index, one numeric detail — the port
//     for datagrams, byte length for stream segments, pid for timers and signals, label
//     length for world.schedule callbacks) into a
//     64-bit running digest (two 32-bit FNV/murmur-style lanes). Explicit traceLine() calls
//     are still hashed as lines. traceHash() = sha256(lines… + "digest <lane1> <lane2> <n>").
//   The two modes give different hashes for the same seed; compare runs made in one mode.
import { createHash, type Hash } from 'node:crypto';

const TAIL_KEEP = 2000;

export class Trace {
  private readonly hash: Hash = createHash('sha256');
  private readonly tail: string[] = new Array(TAIL_KEEP);
  private tailNext = 0;
  private lines = 0;
  private h1 = 0x811c9dc5 | 0;
  private h2 = 0x1b873593 | 0;
  private digested = 0;

  constructor(readonly enabled: boolean) {}

  line(text: string): void {
    this.hash.update(text);
    this.hash.update('\n');
    this.tail[this.tailNext] = text;
    this.tailNext = (this.tailNext + 1) % TAIL_KEEP;
    this.lines++;
  }

  /** Cheap per-event digest used when lines are disabled. All arguments are numbers. */
  digest(tMs: number, code: number, host: number, detail: number): void {
    const tm = Math.round(tMs * 1000);
    let a = this.h1;
    let b = this.h2;
    a = Math.imul(a ^ (tm | 0), 0x01000193);
    b = Math.imul(b ^ ((tm / 4294967296) | 0), 0x5bd1e995);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ (a >>> 13), 0x5bd1e995);
    a = Math.imul(a ^ host, 0x01000193);
    b = Math.imul(b ^ (detail | 0), 0x5bd1e995);
    this.h1 = a ^ (b >>> 16);
    this.h2 = b ^ (a >>> 11);
    this.digested++;
  }

  hex(): string {
    const copy = this.hash.copy();
    if (!this.enabled) copy.update(`digest ${(this.h1 >>> 0).toString(16)} ${(this.h2 >>> 0).toString(16)} ${this.digested}\n`);
    return copy.digest('hex');
  }

  count(): number {
    return this.lines + this.digested;
  }

  last(n: number): string[] {
    const have = Math.min(this.lines, TAIL_KEEP, Math.max(0, Math.floor(n)));
    const out: string[] = [];
    for (let i = have; i > 0; i--) {
      out.push(this.tail[(this.tailNext - i + TAIL_KEEP) % TAIL_KEEP]!);
    }
    return out;
  }
}
