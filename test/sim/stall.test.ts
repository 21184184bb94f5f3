// test/sim/stall.test.ts — the CPU-stall model: held events are released like a real event loop
// drains its backlog (expired timers first, then deliveries in arrival order), nothing is dropped,
// extensions and crashes behave, and a stall-heavy world stays deterministic.
import { describe, expect, it } from 'vitest';
import { SimWorld, type SimProcessContext } from '../../sim/world.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Host b (10.0.0.2) logs timer firings and datagrams as `kind:label@time`. */
function world(seed: string) {
  const w = new SimWorld({ seed, defaultLink: { latencyMs: { min: 10, max: 10 } } });
  const a = w.addHost('10.0.0.1', 'a');
  const b = w.addHost('10.0.0.2', 'b');
  const seen: string[] = [];
  let ctxB: SimProcessContext | null = null;
  b.spawn(['rx'], (ctx) => {
    ctxB = ctx;
    ctx.ports.net.bindDatagram(9000, (_from, bytes) => seen.push(`dgram:${dec.decode(bytes)}@${ctx.ports.clock.nowMs()}`));
  });
  let ctxA: SimProcessContext | null = null;
  a.spawn(['tx'], (ctx) => {
    ctxA = ctx;
  });
  const send = (atMs: number, text: string): void => {
    w.schedule(atMs, `send ${text}`, () => ctxA!.ports.net.sendDatagram(7000, '10.0.0.2:9000', enc.encode(text)));
  };
  const timer = (atMs: number, label: string): number => ctxB!.ports.timers.set(atMs, () => seen.push(`timer:${label}@${ctxB!.ports.clock.nowMs()}`));
  return { w, a, b, seen, send, timer };
}

describe('stall', () => {
  it('on resume, expired timers run before held deliveries, each group in its own time order', () => {
    const { w, b, seen, send, timer } = world('stall-order');
    send(0, 'before'); // arrives at 10, before the stall: runs normally
    w.schedule(50, 'stall', () => b.stall(1000)); // held until 1050
    send(100, 'ack1'); // arrives 110 — long before the timers below expire
    send(300, 'ack2'); // arrives 310
    timer(600, 'probeTimeout');
    timer(400, 'early');
    timer(2000, 'later'); // not expired at 1050: runs at its own time
    w.runUntil(3000);
    expect(seen).toEqual([
      'dgram:before@10',
      'timer:early@1050',
      'timer:probeTimeout@1050',
      'dgram:ack1@1050',
      'dgram:ack2@1050',
      'timer:later@2000',
    ]);
  });

  it('nothing runs on the host during the stall; other hosts keep going', () => {
    const { w, a, b, seen, send } = world('stall-other');
    const onA: number[] = [];
    w.schedule(0, 'stall', () => b.stall(500));
    send(100, 'x');
    a.spawn(['tick'], (ctx) => {
      for (let t = 100; t <= 400; t += 100) ctx.ports.timers.set(t, () => onA.push(ctx.ports.clock.nowMs()));
    });
    w.runUntil(499);
    expect(seen).toEqual([]);
    expect(onA).toEqual([100, 200, 300, 400]);
    expect(w.kernel.heldCount()).toBe(1);
    w.runUntil(500);
    expect(seen).toEqual(['dgram:x@500']);
    expect(w.kernel.heldCount()).toBe(0);
  });

  it('a stall extended while held moves the release to the new end', () => {
    const { w, b, seen, send, timer } = world('stall-extend');
    w.schedule(0, 'stall', () => b.stall(300));
    w.schedule(200, 'stall more', () => b.stall(600)); // now until 800
    send(50, 'm');
    timer(100, 't');
    w.runUntil(799);
    expect(seen).toEqual([]);
    w.runUntil(800);
    expect(seen).toEqual(['timer:t@800', 'dgram:m@800']);
  });

  it('a timer cancelled while held never runs', () => {
    const { w, b, seen, timer } = world('stall-cancel');
    w.schedule(0, 'stall', () => b.stall(500));
    let id = -1;
    w.schedule(1, 'arm', () => {
      id = timer(100, 'cancelled');
      timer(150, 'kept');
    });
    w.schedule(300, 'cancel', () => w.cancel(id));
    w.runUntil(1000);
    expect(seen).toEqual(['timer:kept@500']);
  });

  it('a crash during a stall drops what was held; a process spawned later never sees it', () => {
    const { w, b, send, timer } = world('stall-crash');
    w.schedule(0, 'stall', () => b.stall(1000));
    send(100, 'old');
    w.schedule(1, 'arm', () => timer(200, 'old-timer'));
    w.schedule(300, 'crash', () => b.crash());
    const fresh: string[] = [];
    w.schedule(400, 'respawn', () =>
      b.spawn(['rx2'], (ctx) => ctx.ports.net.bindDatagram(9000, (_f, bytes) => fresh.push(`${dec.decode(bytes)}@${ctx.ports.clock.nowMs()}`))),
    );
    send(500, 'new');
    w.runUntil(2000);
    expect(fresh).toEqual(['new@510']);
    expect(w.kernel.heldCount()).toBe(0);
    expect(w.net.stats().datagramsDropped).toBe(1);
  });

  it('a stall-heavy world replays to the same hash; the release order is part of it', () => {
    const run = (seed: string): string => {
      const w = new SimWorld({ seed, defaultLink: { latencyMs: { min: 1, max: 20 }, loss: 0.05 } });
      const hosts = [0, 1, 2, 3].map((i) => w.addHost(`10.0.0.${i + 1}`));
      for (const h of hosts) {
        h.spawn(['echo'], (ctx) => {
          ctx.ports.net.bindDatagram(9000, (from, bytes) => {
            if (dec.decode(bytes) === 'ping') ctx.ports.net.sendDatagram(9000, from, enc.encode('pong'));
          });
          const tick = (): void => {
            const to = hosts[w.rng.int(hosts.length)]!.ip;
            ctx.ports.net.sendDatagram(9000, `${to}:9000`, enc.encode('ping'));
            ctx.ports.timers.set(ctx.ports.clock.nowMs() + 7 + w.rng.int(30), tick);
          };
          tick();
        });
      }
      for (let t = 100; t < 20_000; t += 250) {
        w.schedule(t, 'stall', () => hosts[w.rng.int(hosts.length)]!.stall(50 + w.rng.int(400)));
      }
      w.runUntil(20_000);
      return w.traceHash();
    };
    expect(run('stall-det-1')).toBe(run('stall-det-1'));
    expect(run('stall-det-2')).not.toBe(run('stall-det-1'));
  });
});
