// Property: under any fault schedule, message streams never duplicate or reorder, and every
// message a live sender sent is eventually either delivered or reported failed — exactly once.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SimWorld, type Fault, type SimProcessContext } from '../../sim/world.ts';

const SENDERS = ['10.0.0.1', '10.0.0.2'];
const RECEIVERS = ['10.0.0.3', '10.0.0.4'];
const ALL = [...SENDERS, ...RECEIVERS];

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ atMs: fc.integer({ min: 0, max: 20_000 }), kind: fc.constant('partition' as const), groups: fc.shuffledSubarray(ALL, { minLength: 1, maxLength: 3 }).map((g) => [g, ALL.filter((x) => !g.includes(x))]) }),
  fc.record({ atMs: fc.integer({ min: 0, max: 20_000 }), kind: fc.constant('partitionOneWay' as const), from: fc.subarray(ALL, { minLength: 1 }), to: fc.subarray(ALL, { minLength: 1 }) }),
  fc.record({ atMs: fc.integer({ min: 0, max: 20_000 }), kind: fc.constant('isolate' as const), ip: fc.constantFrom(...ALL) }),
  fc.record({ atMs: fc.integer({ min: 0, max: 20_000 }), kind: fc.constant('heal' as const) }),
  fc.record({ atMs: fc.integer({ min: 0, max: 20_000 }), kind: fc.constant('crash' as const), ip: fc.constantFrom(...RECEIVERS) }),
  fc.record({ atMs: fc.integer({ min: 0, max: 20_000 }), kind: fc.constant('restart' as const), ip: fc.constantFrom(...RECEIVERS) }),
  fc.record({ atMs: fc.integer({ min: 0, max: 20_000 }), kind: fc.constant('stall' as const), ip: fc.constantFrom(...ALL), durationMs: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({
    atMs: fc.integer({ min: 0, max: 20_000 }),
    kind: fc.constant('link' as const),
    from: fc.constantFrom(...ALL),
    to: fc.constantFrom(...ALL),
    cfg: fc.record({ latencyMs: fc.integer({ min: 0, max: 200 }).map((min) => ({ min, max: min + 50 })) }),
  }),
);

function runSchedule(seed: number, faults: Fault[]) {
  const w = new SimWorld({ seed, traceEnabled: false });
  const delivered = new Map<string, number[]>(); // `${from}>${receiver}` → ids in arrival order
  const outcome = new Map<string, string[]>(); // message key → outcomes
  const receiver = (ctx: SimProcessContext) =>
    ctx.ports.net.listenStream(8300, (from, bytes) => {
      const id = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
      const k = `${from}>${ctx.host.ip}`;
      if (!delivered.has(k)) delivered.set(k, []);
      delivered.get(k)!.push(id);
      const mk = `${from.split(':')[0]}>${ctx.host.ip}#${id}`;
      outcome.set(mk, [...(outcome.get(mk) ?? []), 'delivered']);
    });
  for (const ip of RECEIVERS) w.addHost(ip).spawn(['rx'], receiver);
  for (const ip of SENDERS) {
    w.addHost(ip).spawn(['tx'], (ctx) => {
      let id = 0;
      const tick = () => {
        for (const to of RECEIVERS) {
          const n = ++id;
          const b = new Uint8Array(4);
          new DataView(b.buffer).setUint32(0, n);
          const mk = `${ip}>${to}#${n}`;
          outcome.set(mk, []);
          ctx.ports.net.sendStream(8300, `${to}:8300`, b, (_to, reason) => outcome.set(mk, [...outcome.get(mk)!, reason]));
        }
        if (ctx.ports.clock.nowMs() < 22_000) ctx.ports.timers.set(ctx.ports.clock.nowMs() + 50, tick);
      };
      tick();
    });
  }
  w.applyFaults(faults);
  w.applyFaults([{ atMs: 22_000, kind: 'heal' }, ...RECEIVERS.map((ip) => ({ atMs: 22_000, kind: 'restart' as const, ip }))]);
  w.runUntil(60_000);
  return { delivered, outcome, hash: w.traceHash() };
}

describe('message streams under random faults (property)', () => {
  it('no duplicates, no reordering, exactly one outcome per message', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(faultArb, { maxLength: 12 }), (seed, faults) => {
        const { delivered, outcome } = runSchedule(seed, faults);
        for (const [k, ids] of delivered) {
          for (let i = 1; i < ids.length; i++) {
            if (!(ids[i]! > ids[i - 1]!)) throw new Error(`stream ${k}: id ${ids[i]} arrived after ${ids[i - 1]} (seed ${seed})`);
          }
        }
        for (const [mk, outs] of outcome) {
          if (outs.length !== 1) throw new Error(`message ${mk}: outcomes [${outs.join(', ')}], want exactly one (seed ${seed})`);
        }
        expect(outcome.size).toBeGreaterThan(800);
      }),
      { numRuns: 40 },
    );
  });

  it('same schedule and seed ⇒ same trace hash', () => {
    const faults: Fault[] = [
      { atMs: 3000, kind: 'partition', groups: [['10.0.0.1', '10.0.0.3'], ['10.0.0.2', '10.0.0.4']] },
      { atMs: 6000, kind: 'crash', ip: '10.0.0.4' },
      { atMs: 9000, kind: 'heal' },
      { atMs: 9500, kind: 'restart', ip: '10.0.0.4' },
    ];
    expect(runSchedule(7, faults).hash).toBe(runSchedule(7, faults).hash);
    expect(runSchedule(8, faults).hash).not.toBe(runSchedule(7, faults).hash);
  });
});
