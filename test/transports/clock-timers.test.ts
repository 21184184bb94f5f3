// test/transports/clock-timers.test.ts — RealClock monotonicity and RealTimers on real time.
import { describe, expect, it } from 'vitest';
import { RealClock, type MonotonicSources } from '../../transports/clock.ts';
import { RealTimers } from '../../transports/timers.ts';

function fakeSources(): MonotonicSources & { wall: number; mono: number } {
  const s = {
    wall: 1_000_000,
    mono: 50.25,
    wallMs: () => s.wall,
    monotonicMs: () => s.mono,
  };
  return s;
}

describe('RealClock', () => {
  it('follows the wall clock forward', () => {
    const src = fakeSources();
    const clock = new RealClock(src);
    expect(clock.nowMs()).toBe(1_000_000);
    src.wall += 1500;
    src.mono += 1500;
    expect(clock.nowMs()).toBe(1_001_500);
    src.wall += 60_000; // an NTP step forward is taken as is
    src.mono += 10;
    expect(clock.nowMs()).toBe(1_061_500);
  });

  it('never goes backwards, and keeps advancing at the monotonic rate after a backward step', () => {
    const src = fakeSources();
    const clock = new RealClock(src);
    src.wall += 100;
    src.mono += 100;
    expect(clock.nowMs()).toBe(1_000_100);
    src.wall -= 3_600_000; // the operator set the clock back an hour
    src.mono += 5;
    expect(clock.nowMs()).toBe(1_000_105);
    src.mono += 0.4;
    expect(clock.nowMs()).toBe(1_000_105);
    src.mono += 0.4; // fractions accumulate instead of being lost to rounding
    expect(clock.nowMs()).toBe(1_000_105);
    src.mono += 0.4;
    expect(clock.nowMs()).toBe(1_000_106);
    src.mono += 1000;
    expect(clock.nowMs()).toBe(1_001_106);
  });

  it('reads close to Date.now with the default sources', () => {
    const clock = new RealClock();
    const a = clock.nowMs();
    expect(Math.abs(a - Date.now())).toBeLessThan(50);
    expect(Number.isInteger(a)).toBe(true);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(a);
  });
});

describe('RealTimers', () => {
  it('fires at or after atMs in deadline order, never inside set()', async () => {
    const clock = new RealClock();
    const timers = new RealTimers(clock);
    const fired: [string, number, number][] = [];
    const t0 = clock.nowMs();
    let inside = true;
    timers.set(t0 + 60, () => fired.push(['late', clock.nowMs(), t0 + 60]));
    timers.set(t0 + 20, () => fired.push(['early', clock.nowMs(), t0 + 20]));
    timers.set(t0 - 1000, () => fired.push([inside ? 'INSIDE' : 'past', clock.nowMs(), t0 - 1000]));
    inside = false;
    await new Promise((r) => setTimeout(r, 120));
    expect(fired.map((f) => f[0])).toEqual(['past', 'early', 'late']);
    for (const [, at, due] of fired) expect(at).toBeGreaterThanOrEqual(due);
    expect(timers.size).toBe(0);
  });

  it('cancel stops a timer; cancelling twice or an unknown handle is harmless', async () => {
    const timers = new RealTimers(new RealClock());
    const fired: number[] = [];
    const now = Date.now();
    const a = timers.set(now + 10, () => fired.push(1));
    timers.set(now + 20, () => fired.push(2));
    timers.cancel(a);
    timers.cancel(a);
    timers.cancel(9999);
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toEqual([2]);
  });

  it('re-arms a timer that wakes before the clock reaches atMs', async () => {
    // A clock running at half speed: every setTimeout wake-up comes too early by its reading.
    const realStart = Date.now();
    const slow = { nowMs: () => Math.floor((Date.now() - realStart) / 2) };
    const timers = new RealTimers(slow);
    let firedAt = -1;
    let realElapsed = -1;
    timers.set(30, () => {
      firedAt = slow.nowMs();
      realElapsed = Date.now() - realStart;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(firedAt).toBeGreaterThanOrEqual(30);
    expect(realElapsed).toBeGreaterThanOrEqual(58);
  });

  it('cancelAll clears everything and rejects a non-finite deadline', async () => {
    const timers = new RealTimers(new RealClock());
    let fired = 0;
    for (let i = 0; i < 5; i++) timers.set(Date.now() + 10, () => fired++);
    timers.cancelAll();
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toBe(0);
    expect(() => timers.set(Number.NaN, () => {})).toThrow(/finite/);
  });
});
