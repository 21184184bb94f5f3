// sim/demo-world.ts — a fixed, busy world used by the determinism test and the sim bench.
//
// Owns: a small "chatty cluster" program (datagrams, streams, timers, disk appends) and a
// fault schedule drawn from the world's own rng.
// Must never: use any randomness but world.rng forks, or anything real-time.
import type { SimProcessContext } from './types.ts';
import type { FaultSchedule } from './types.ts';
import { SimWorld } from './world.ts';

export interface ChattyOptions {
  seed: string | number;
  hosts: number;
  traceEnabled?: boolean;
  /** Datagram period per host (ms). */
  gossipMs?: number;
  /** Stream message period per host (ms). */
  streamMs?: number;
  loss?: number;
  faults?: boolean;
  durationMs: number;
}

const ignore = (): void => {};

export function hostIp(i: number): string {
  return `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** Builds the world and its fault schedule; the caller runs it. */
export function buildChattyWorld(o: ChattyOptions): { world: SimWorld; faults: FaultSchedule; received: () => number } {
  const world = new SimWorld({
    seed: o.seed,
    traceEnabled: o.traceEnabled ?? true,
    defaultLink: { latencyMs: { min: 1, max: 10 }, loss: o.loss ?? 0.05, duplicate: 0.01, reorder: 0.05 },
  });
  const ips = Array.from({ length: o.hosts }, (_, i) => hostIp(i));
  let received = 0;
  const gossipMs = o.gossipMs ?? 100;
  const streamMs = o.streamMs ?? 500;
  const enc = new TextEncoder();
  const program = (ctx: SimProcessContext): void => {
    const me = ctx.host.ip;
    const myIndex = ips.indexOf(me);
    const rng = world.rng.fork(`chatty/${me}/${ctx.pid}`);
    const { net, timers, clock, disk } = ctx.ports;
    // Payloads are built once: the bench should measure the world, not string encoding.
    const ping = enc.encode(`p${me}`);
    const ack = enc.encode(`a${me}`);
    const query = enc.encode(`q${me}`);
    const reply = enc.encode(`r${me}`);
    // Streams go to a fixed set of neighbours (like Raft peers), datagrams to random hosts.
    const neighbours = [1, 2, 3].map((d) => `${ips[(myIndex + d) % ips.length]!}:8300`);
    net.bindDatagram(8301, (from, bytes) => {
      received++;
      if (bytes[0] === 0x70 /* 'p' */ && rng.chance(0.5)) net.sendDatagram(8301, from, ack);
    });
    net.listenStream(8300, (from, bytes) => {
      received++;
      if (rng.chance(0.1)) disk.append('/data/log', bytes, rng.chance(0.5));
      if (bytes[0] === 0x71 /* 'q' */) net.sendStream(8300, from, reply, ignore);
    });
    const pick = (): string => {
      let i = rng.int(ips.length);
      if (i === myIndex) i = (i + 1) % ips.length;
      return `${ips[i]!}:8301`;
    };
    const gossip = (): void => {
      net.sendDatagram(8301, pick(), ping);
      timers.set(clock.nowMs() + gossipMs / 2 + rng.int(gossipMs), gossip);
    };
    const stream = (): void => {
      net.sendStream(8300, neighbours[rng.int(neighbours.length)]!, query, ignore);
      timers.set(clock.nowMs() + streamMs / 2 + rng.int(streamMs), stream);
    };
    timers.set(clock.nowMs() + rng.int(gossipMs), gossip);
    timers.set(clock.nowMs() + rng.int(streamMs), stream);
  };
  for (const ip of ips) world.addHost(ip).spawn(['chatty', ip], program);

  const faults: FaultSchedule = [];
  if (o.faults ?? true) {
    const fr = world.rng.fork('faults');
    const span = o.durationMs;
    for (let t = 1000; t < span - 1000; t += 1000 + fr.int(3000)) {
      const k = fr.int(5);
      const a = ips[fr.int(ips.length)]!;
      if (k === 0) {
        const shuffled = fr.shuffle(ips);
        const cut = 1 + fr.int(ips.length - 1);
        faults.push({ atMs: t, kind: 'partition', groups: [shuffled.slice(0, cut), shuffled.slice(cut)] });
        faults.push({ atMs: t + 500 + fr.int(3000), kind: 'heal' });
      } else if (k === 1) {
        faults.push({ atMs: t, kind: 'crash', ip: a });
        faults.push({ atMs: t + 200 + fr.int(2000), kind: 'restart', ip: a });
      } else if (k === 2) {
        faults.push({ atMs: t, kind: 'stall', ip: a, durationMs: 100 + fr.int(1500) });
      } else if (k === 3) {
        faults.push({ atMs: t, kind: 'partitionOneWay', from: [a], to: fr.shuffle(ips).slice(0, 3) });
        faults.push({ atMs: t + 1000, kind: 'heal' });
      } else {
        faults.push({ atMs: t, kind: 'link', from: a, to: ips[fr.int(ips.length)]!, cfg: { loss: 0.5, latencyMs: { min: 20, max: 80 } } });
      }
    }
    world.applyFaults(faults);
  }
  return { world, faults, received: () => received };
}
