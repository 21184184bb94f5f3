import { describe, expect, it } from 'vitest';
import { SimWorld, type FaultSchedule, type SimProcessContext } from '../../sim/world.ts';

const enc = new TextEncoder();

function world() {
  const w = new SimWorld({ seed: 'faults' });
  const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
  const heard: string[] = [];
  const program = (ctx: SimProcessContext) => {
    ctx.ports.net.bindDatagram(1, (from) => heard.push(`${w.nowMs()} ${from.split(':')[0]}>${ctx.host.ip}`));
    const tick = () => {
      for (const ip of ips) if (ip !== ctx.host.ip) ctx.ports.net.sendDatagram(1, `${ip}:1`, enc.encode('x'));
      ctx.ports.timers.set(ctx.ports.clock.nowMs() + 100, tick);
    };
    ctx.ports.timers.set(100, tick);
  };
  for (const ip of ips) w.addHost(ip).spawn(['p'], program);
  const heardIn = (from: string, to: string, t0: number, t1: number) =>
    heard.some((h) => {
      const [t, pair] = h.split(' ');
      return Number(t) >= t0 && Number(t) < t1 && pair === `${from}>${to}`;
    });
  return { w, heardIn };
}

describe('faults as data', () => {
  it('every fault kind takes effect at its time; the schedule is plain JSON', () => {
    const { w, heardIn } = world();
    const schedule: FaultSchedule = JSON.parse(JSON.stringify([
      { atMs: 1000, kind: 'partition', groups: [['10.0.0.1'], ['10.0.0.2', '10.0.0.3']] },
      { atMs: 2000, kind: 'heal' },
      { atMs: 3000, kind: 'partitionOneWay', from: ['10.0.0.1'], to: ['10.0.0.2'] },
      { atMs: 4000, kind: 'heal' },
      { atMs: 5000, kind: 'isolate', ip: '10.0.0.3' },
      { atMs: 6000, kind: 'heal' },
      { atMs: 7000, kind: 'link', from: '10.0.0.2', to: '10.0.0.1', cfg: { loss: 1 } },
      { atMs: 8000, kind: 'link', from: '10.0.0.2', to: '10.0.0.1', cfg: { loss: 0 } },
      { atMs: 9000, kind: 'crash', ip: '10.0.0.2' },
      { atMs: 10000, kind: 'restart', ip: '10.0.0.2' },
      { atMs: 11000, kind: 'stall', ip: '10.0.0.3', durationMs: 500 },
    ]));
    w.applyFaults(schedule);
    w.runUntil(12_000);
    expect(heardIn('10.0.0.1', '10.0.0.2', 500, 1000)).toBe(true);
    expect(heardIn('10.0.0.1', '10.0.0.2', 1010, 2000)).toBe(false);
    expect(heardIn('10.0.0.2', '10.0.0.1', 1010, 2000)).toBe(false);
    expect(heardIn('10.0.0.2', '10.0.0.3', 1010, 2000)).toBe(true);
    expect(heardIn('10.0.0.1', '10.0.0.2', 2010, 3000)).toBe(true);
    expect(heardIn('10.0.0.1', '10.0.0.2', 3010, 4000)).toBe(false);
    expect(heardIn('10.0.0.2', '10.0.0.1', 3010, 4000)).toBe(true);
    expect(heardIn('10.0.0.3', '10.0.0.1', 5010, 6000)).toBe(false);
    expect(heardIn('10.0.0.1', '10.0.0.2', 5010, 6000)).toBe(true);
    expect(heardIn('10.0.0.2', '10.0.0.1', 7010, 8000)).toBe(false);
    expect(heardIn('10.0.0.1', '10.0.0.2', 7010, 8000)).toBe(true);
    expect(heardIn('10.0.0.2', '10.0.0.1', 8010, 9000)).toBe(true);
    expect(heardIn('10.0.0.2', '10.0.0.1', 9010, 10000)).toBe(false);
    expect(heardIn('10.0.0.1', '10.0.0.2', 9010, 10000)).toBe(false);
    // restart re-spawns the same program (its first timer is in the past, so it ticks at once)
    expect(heardIn('10.0.0.2', '10.0.0.1', 10000, 11000)).toBe(true);
    // a stalled host receives nothing during the stall (held), then everything at once
    expect(heardIn('10.0.0.1', '10.0.0.3', 11010, 11500)).toBe(false);
    expect(heardIn('10.0.0.1', '10.0.0.3', 11500, 11501)).toBe(true);
    expect(w.traceTail(100000).filter((l) => / fault /.test(l)).length).toBe(11);
  });

  it('bad schedules fail at apply time with the entry and field named', () => {
    const { w } = world();
    expect(() => w.applyFaults({} as never)).toThrow(/must be an array/);
    expect(() => w.applyFaults([{ atMs: -1, kind: 'heal' }])).toThrow(/fault #0.*atMs/);
    expect(() => w.applyFaults([{ atMs: 1, kind: 'explode' } as never])).toThrow(/kind must be one of/);
    expect(() => w.applyFaults([{ atMs: 1, kind: 'crash', ip: '10.9.9.9' }])).toThrow(/fault #0.*'10.9.9.9' is not a host/);
    expect(() => w.applyFaults([{ atMs: 1, kind: 'heal' }, { atMs: 1, kind: 'link', from: '10.0.0.1', to: '10.0.0.2', cfg: { loss: 3 } }])).toThrow(/fault #1.*probability/);
    expect(() => w.applyFaults([{ atMs: 1, kind: 'stall', ip: '10.0.0.1', durationMs: NaN }])).toThrow(/durationMs/);
  });
});
