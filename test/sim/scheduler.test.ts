import { describe, expect, it } from 'vitest';
import { SimWorld } from '../../sim/world.ts';
import { MinHeap } from '../../sim/heap.ts';
import { makeRng } from '../../core/rng.ts';

describe('scheduler', () => {
  it('runs events in time order, ties in scheduling order', () => {
    const w = new SimWorld({ seed: 1 });
    const seen: string[] = [];
    w.schedule(30, 'c', () => seen.push('c@' + w.nowMs()));
    w.schedule(10, 'a1', () => seen.push('a1@' + w.nowMs()));
    w.schedule(10, 'a2', () => seen.push('a2@' + w.nowMs()));
    w.schedule(20, 'b', () => {
      seen.push('b@' + w.nowMs());
      // Scheduled "now" from inside an event: runs after the current event, before later times.
      w.schedule(20, 'b-now', () => seen.push('b-now@' + w.nowMs()));
      w.schedule(5, 'b-past', () => seen.push('b-past@' + w.nowMs()));
    });
    w.schedule(10, 'a3', () => seen.push('a3@' + w.nowMs()));
    w.runUntil(100);
    expect(seen).toEqual(['a1@10', 'a2@10', 'a3@10', 'b@20', 'b-now@20', 'b-past@20', 'c@30']);
    expect(w.nowMs()).toBe(100);
  });

  it('cancel removes an event; step returns false on an empty queue', () => {
    const w = new SimWorld({ seed: 1 });
    let ran = 0;
    const id = w.schedule(5, 'x', () => ran++);
    w.schedule(6, 'y', () => ran += 10);
    w.cancel(id);
    w.cancel(id); // idempotent
    expect(w.step()).toBe(true);
    expect(ran).toBe(10);
    expect(w.step()).toBe(false);
  });

  it('runUntil leaves later events; runFor is relative; runUntilTrue stops at the first true', () => {
    const w = new SimWorld({ seed: 1 });
    let n = 0;
    for (let t = 1; t <= 10; t++) w.schedule(t * 100, `tick${t}`, () => n++);
    w.runUntil(350);
    expect(n).toBe(3);
    expect(w.nowMs()).toBe(350);
    w.runFor(100);
    expect(n).toBe(4);
    expect(w.runUntilTrue(() => n >= 7, 10_000)).toBe(true);
    expect(w.nowMs()).toBe(700);
    expect(w.runUntilTrue(() => n >= 100, 500)).toBe(false);
    expect(w.nowMs()).toBe(1200);
    expect(n).toBe(10);
  });

  it('runUntil never runs a live event past its limit, even behind cancelled or held ones', () => {
    const w = new SimWorld({ seed: 1 });
    const h = w.addHost('10.0.0.1');
    const ran: string[] = [];
    const c = w.schedule(50, 'cancelled', () => ran.push('cancelled'));
    w.schedule(200, 'late', () => ran.push('late'));
    w.cancel(c);
    w.runUntil(100);
    expect(ran).toEqual([]);
    expect(w.nowMs()).toBe(100);
    h.spawn(['p'], (ctx) => ctx.ports.timers.set(120, () => ran.push('held')));
    h.stall(500); // the timer at 120 is held until 600
    w.runUntil(150);
    expect(ran).toEqual([]);
    w.runUntil(599);
    expect(ran).toEqual(['late']);
    w.runUntil(600);
    expect(ran).toEqual(['late', 'held']);
  });

  it('the heap pops in (t, seq) order for random input', () => {
    const rng = makeRng('heap');
    const h = new MinHeap<{ t: number; seq: number }>();
    const items: { t: number; seq: number }[] = [];
    for (let i = 0; i < 5000; i++) {
      const it = { t: rng.int(200), seq: i };
      items.push(it);
      h.push(it);
      if (rng.chance(0.3)) {
        // interleave pops with pushes
        const popped = h.pop()!;
        items.splice(items.indexOf(popped), 1);
        const min = items.reduce((m, x) => (x.t < m.t || (x.t === m.t && x.seq < m.seq) ? x : m), popped);
        expect(popped.t < min.t || (popped.t === min.t && popped.seq <= min.seq)).toBe(true);
      }
    }
    const out: { t: number; seq: number }[] = [];
    for (let x = h.pop(); x; x = h.pop()) out.push(x);
    const sorted = items.slice().sort((a, b) => a.t - b.t || a.seq - b.seq);
    expect(out).toEqual(sorted);
  });

  it('timers of a process fire at their time and die with it; stall holds them', () => {
    const w = new SimWorld({ seed: 2 });
    const h = w.addHost('10.0.0.1');
    const fired: number[] = [];
    const p = h.spawn(['t'], (ctx) => {
      const { timers, clock } = ctx.ports;
      timers.set(100, () => fired.push(clock.nowMs()));
      const c = timers.set(150, () => fired.push(-1));
      timers.cancel(c);
      timers.set(200, () => fired.push(clock.nowMs()));
      timers.set(900, () => fired.push(clock.nowMs()));
    });
    w.schedule(150, 'stall', () => h.stall(300));
    w.schedule(500, 'kill', () => p.kill9());
    w.runUntil(1000);
    expect(fired).toEqual([100, 450]);
    expect(p.exited).toBe(true);
    expect(p.exitCode).toBe(137);
  });

  it('rejects bad input with clear errors', () => {
    const w = new SimWorld({ seed: 1 });
    expect(() => w.schedule(NaN, 'x', () => {})).toThrow(/time must be a number/);
    expect(() => w.addHost('300.1.1.1')).toThrow(/not an IPv4/);
    w.addHost('10.0.0.1', 'n1');
    expect(() => w.addHost('10.0.0.1')).toThrow(/already exists/);
    expect(() => w.host('n9')).toThrow(/no host 'n9'.*n1=10.0.0.1/);
    expect(() => w.net.setLink('10.0.0.1', '10.0.0.1', { loss: 2 })).toThrow(/probability/);
  });
});
