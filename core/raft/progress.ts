// core/raft/progress.ts — the leader's view of one follower's replication (etcd's tracker/progress).
//
// Owns: match/next indexes, the flow-control state (probe: one append at a time until the
// follower's position is known; replicate: optimistic pipelining with a bounded in-flight
// window; snapshot: waiting for InstallSnapshot to finish), and liveness marks for
// CheckQuorum and leader leases.
// Must never: send anything; the node decides what to send from this state.

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** probe: an append is outstanding; wait for an answer (or the next heartbeat). */
  paused = false;
  /** Last index carried by each in-flight append, oldest first (replicate state). */
  inflight: number[] = [];
  pendingSnapshot = 0;
  snapshotSentMs = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Largest leader send time this follower acknowledged (for leases). */
  ackedSentMs = -Infinity;
  /** match when the previous heartbeat answer came in (stall detection). */
  matchAtLastBeat = -1;
  /** 'pipelining replication' has been logged for this leadership. */
  announced = false;
  /** An unreachable error was logged and not yet followed by a success. */
  failing = false;

  constructor(next: number) {
    this.next = next;
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.paused = false;
    this.inflight = [];
    this.next = Math.max(this.next, this.match + 1);
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.paused = false;
    this.inflight = [];
    this.next = this.match + 1;
  }

  becomeSnapshot(index: number, nowMs: number): void {
    this.state = 'snapshot';
    this.inflight = [];
    this.pendingSnapshot = index;
    this.snapshotSentMs = nowMs;
  }

  freeTo(index: number): void {
    while (this.inflight.length && this.inflight[0]! <= index) this.inflight.shift();
  }

  inflightFull(max: number): boolean {
    return this.inflight.length >= max;
  }
}
