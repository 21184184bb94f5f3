// transports/clock.ts — the real-mode clock: wall time that never runs backwards.
//
// Owns: turning Date.now() into a ClockPort value that only grows.
// Must never: freeze, and never jump backwards when the wall clock is stepped back (NTP,
// an operator's `date -s`): machines rely on nowMs only growing between calls.
//
// Each reading is max(wall time, previous reading + monotonic time elapsed since it). Wall
// time steps forward are followed; backward steps are absorbed by continuing at the
// monotonic rate, so time never stalls waiting for the wall clock to catch up.
import { performance } from 'node:perf_hooks';
import type { ClockPort } from '../core/runtime/ports.ts';

export interface MonotonicSources {
  wallMs(): number;
  monotonicMs(): number;
}

const nodeSources: MonotonicSources = {
  wallMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

export class RealClock implements ClockPort {
  private lastMs: number;
  private lastMonotonicMs: number;

  constructor(private readonly sources: MonotonicSources = nodeSources) {
    this.lastMs = sources.wallMs();
    this.lastMonotonicMs = sources.monotonicMs();
  }

  nowMs(): number {
    const wall = this.sources.wallMs();
    const mono = this.sources.monotonicMs();
    const carried = this.lastMs + Math.max(0, mono - this.lastMonotonicMs);
    // Whole milliseconds keep log lines and timer arithmetic free of float noise.
    const now = Math.floor(Math.max(wall, carried));
    // Carry fractional monotonic progress forward instead of losing it to the floor.
    if (now > this.lastMs) {
      this.lastMonotonicMs = mono - (Math.max(wall, carried) - now);
      this.lastMs = now;
    }
    return this.lastMs;
  }
}
