// transports/timers.ts — one-shot timers at absolute times on the real clock.
//
// Owns: mapping `set(atMs, fire)` onto Node's setTimeout, numeric handles, cancel.
// Must never: fire before the clock reads atMs (machines compare nowMs with deadlines),
// fire re-entrantly from inside set(), or fire a cancelled timer.
//
// Node's timers run on the monotonic clock, which can disagree by a millisecond or so
// with RealClock; a timer that wakes early is simply re-armed for the remainder.
import type { ClockPort, TimerPort } from '../core/runtime/ports.ts';

// setTimeout clamps delays above 2^31-1 ms to 1 ms; longer waits are chained.
const MAX_DELAY_MS = 2_147_483_647;

interface Armed {
  atMs: number;
  fire: () => void;
  timeout: NodeJS.Timeout | NodeJS.Immediate;
}

function clear(t: NodeJS.Timeout | NodeJS.Immediate): void {
  if (typeof (t as NodeJS.Timeout).refresh === 'function') clearTimeout(t as NodeJS.Timeout);
  else clearImmediate(t as NodeJS.Immediate);
}

export class RealTimers implements TimerPort {
  private nextHandle = 1;
  private readonly armed = new Map<number, Armed>();

  constructor(private readonly clock: ClockPort) {}

  /** Number of timers still armed (for tests and shutdown checks). */
  get size(): number {
    return this.armed.size;
  }

  set(atMs: number, fire: () => void): number {
    if (!Number.isFinite(atMs)) throw new Error(`timer atMs must be a finite number of ms, got ${atMs}`);
    const handle = this.nextHandle++;
    const entry: Armed = { atMs, fire, timeout: this.schedule(handle, atMs) };
    this.armed.set(handle, entry);
    return handle;
  }

  cancel(handle: number): void {
    const entry = this.armed.get(handle);
    if (!entry) return;
    clear(entry.timeout);
    this.armed.delete(handle);
  }

  cancelAll(): void {
    for (const entry of this.armed.values()) clear(entry.timeout);
    this.armed.clear();
  }

  private schedule(handle: number, atMs: number): NodeJS.Timeout | NodeJS.Immediate {
    // A deadline already due runs on setImmediate: never inside set(), but without
    // setTimeout's 1 ms floor, and still after the I/O callbacks of this loop turn — which is
    // what lets the agent batch every proposal that arrived in one turn into one fsync.
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, Math.ceil(atMs - this.clock.nowMs())));
    if (delay === 0) return setImmediate(() => this.wake(handle));
    return setTimeout(() => this.wake(handle), delay);
  }

  private wake(handle: number): void {
    const entry = this.armed.get(handle);
    if (!entry) return;
    if (this.clock.nowMs() < entry.atMs) {
      entry.timeout = this.schedule(handle, entry.atMs);
      return;
    }
    this.armed.delete(handle);
    entry.fire();
  }
}
