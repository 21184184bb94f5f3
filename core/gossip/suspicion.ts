// core/gossip/suspicion.ts — Lifeguard's suspicion timer for one suspected node.
//
// Owns: who has independently suspected the node, and when the suspicion expires: it starts at
// max and shrinks toward min as confirmations arrive (memberlist suspicion.go).
// Must never: arm timers itself; the memberlist machine turns `deadlineMs` into a timer effect.
import { suspicionRemainingMs } from './math.ts';

export class Suspicion {
  private readonly confirmers = new Set<string>();
  confirmations = 0;

  constructor(
    readonly node: string,
    readonly incarnation: number,
    readonly startMs: number,
    /** Expected confirmations (0 = fixed timeout at min). */
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    from: string,
  ) {
    this.confirmers.add(from);
  }

  get deadlineMs(): number {
    return this.startMs + suspicionRemainingMs(this.confirmations, this.k, this.minMs, this.maxMs);
  }

  /** Record an independent suspicion; true if it was new (the caller re-gossips it and re-arms). */
  confirm(from: string): boolean {
    if (this.confirmations >= this.k) return false;
    if (this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    this.confirmations++;
    return true;
  }
}
