// sim/world.ts — SimWorld: the deterministic simulated world (API: helpers/SIM_API.md).
//
// Owns: putting the kernel (clock, events, trace), the network, hosts and faults together
// behind one object.
// Must never: read a real clock, use real timers or real randomness; import transports/.
//
// Determinism: the only randomness is world.rng and its forks (network: 'net'; disk
// crashes: 'disk-crash/<ip>/<n>'); the only clock is virtual; every executed event is
// traced (see sim/trace.ts for exactly what is hashed in each mode).
import type { Rng } from '../core/rng.ts';
import { Kernel } from './kernel.ts';
import { NetCore } from './net-core.ts';
import { SimHostImpl } from './host.ts';
import { applyFaults as applyFaultSchedule, type FaultTarget } from './faults.ts';
import { httpRequest, type HttpOutcome, type HttpRequestOptions } from './http.ts';
import { dnsQuery } from './dns-client.ts';
import type { Conn, ConnOwner } from './tcp.ts';
import type { FaultSchedule, LinkConfig, SimHost, SimNetwork, SimWorldOptions } from './types.ts';

export * from './types.ts';
export { SimDisk } from './disk.ts';
export { DEFAULT_LINK } from './links.ts';

/** 2015-07-03T09:18:25Z — the walkthrough's first log stamp. */
export const DEFAULT_EPOCH_MS = 1435915105000;

export class SimWorld {
  readonly seed: string;
  readonly rng: Rng;
  readonly net: SimNetwork;
  /** Internal pieces, for tools in sim/ (bench, TUI). Not part of the stable API. */
  readonly kernel: Kernel;
  private readonly core: NetCore;
  private readonly hostList: SimHostImpl[] = [];
  private readonly byKey = new Map<string, SimHostImpl>();
  private pid = 0;
  private readonly faultTarget: FaultTarget;

  constructor(opts: SimWorldOptions) {
    if (opts === null || typeof opts !== 'object') throw new Error('new SimWorld(opts): opts must be an object with at least a seed');
    if (typeof opts.seed !== 'string' && typeof opts.seed !== 'number') {
      throw new Error(`new SimWorld: seed must be a string or number, got ${JSON.stringify(opts.seed)}`);
    }
    this.seed = String(opts.seed);
    const epochMs = opts.epochMs ?? DEFAULT_EPOCH_MS;
    if (typeof epochMs !== 'number' || !Number.isFinite(epochMs)) throw new Error(`new SimWorld: epochMs must be a finite number, got ${String(epochMs)}`);
    this.kernel = new Kernel(this.seed, epochMs, opts.traceEnabled ?? true);
    this.rng = this.kernel.rng;
    this.core = new NetCore(this.kernel);
    if (opts.defaultLink) this.core.setDefaultLink(opts.defaultLink, 'new SimWorld: defaultLink');
    this.net = this.makeNetwork();
    this.faultTarget = {
      schedule: (atMs, label, fn) => this.schedule(atMs, label, fn),
      hasHost: (ip) => this.byKey.has(ip),
      partition: (g) => this.net.partition(g),
      partitionOneWay: (f, t) => this.net.partitionOneWay(f, t),
      isolate: (ip) => this.net.isolate(ip),
      heal: () => this.net.heal(),
      setLink: (f, t, cfg) => this.net.setLink(f, t, cfg),
      crash: (ip) => this.host(ip).crash(),
      restart: (ip) => {
        this.host(ip).restart();
      },
      stall: (ip, d) => this.host(ip).stall(d),
    };
  }

  nowMs(): number {
    return this.kernel.nowMs;
  }

  /** Run fn at virtual time atMs (clamped to now); the label goes into the trace. */
  schedule(atMs: number, label: string, fn: () => void): number {
    return this.kernel.scheduleCallback(atMs, String(label), fn);
  }

  cancel(id: number): void {
    this.kernel.cancel(id);
  }

  step(): boolean {
    return this.kernel.step();
  }

  runUntil(tMs: number): void {
    if (typeof tMs !== 'number' || Number.isNaN(tMs)) throw new Error(`runUntil: tMs must be a number, got ${String(tMs)}`);
    this.kernel.runUntil(tMs);
  }

  runFor(durationMs: number): void {
    if (typeof durationMs !== 'number' || !(durationMs >= 0)) throw new Error(`runFor: durationMs must be a number ≥ 0, got ${String(durationMs)}`);
    this.kernel.runUntil(this.kernel.nowMs + durationMs);
  }

  /** Run until pred() holds (checked first and after each event) or maxMs of virtual time pass. */
  runUntilTrue(pred: () => boolean, maxMs: number): boolean {
    if (typeof maxMs !== 'number' || !(maxMs >= 0)) throw new Error(`runUntilTrue: maxMs must be a number ≥ 0, got ${String(maxMs)}`);
    const k = this.kernel;
    const end = k.nowMs + maxMs;
    if (pred()) return true;
    while (k.step(end)) {
      if (pred()) return true;
    }
    if (end > k.nowMs) k.nowMs = end;
    return pred();
  }

  addHost(ip: string, name?: string): SimHost {
    if (typeof ip !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) || ip.split('.').some((o) => Number(o) > 255)) {
      throw new Error(`addHost: '${String(ip)}' is not an IPv4 address like 10.0.0.1`);
    }
    if (ip.startsWith('127.')) throw new Error(`addHost: ${ip} is a loopback address; give hosts routable addresses`);
    const nm = name ?? ip;
    if (this.byKey.has(ip)) throw new Error(`addHost: a host with ip ${ip} already exists`);
    if (this.byKey.has(nm)) throw new Error(`addHost: a host named '${nm}' already exists`);
    if (this.hostList.length >= 65535) throw new Error('addHost: at most 65535 hosts');
    const h = new SimHostImpl(this.hostList.length, ip, nm, this.kernel, this.core, () => ++this.pid);
    this.hostList.push(h);
    this.kernel.hosts.push(h);
    this.core.registerHost(h);
    this.byKey.set(ip, h);
    this.byKey.set(nm, h);
    return h;
  }

  host(ipOrName: string): SimHost {
    const h = this.byKey.get(ipOrName);
    if (h === undefined) {
      throw new Error(`no host '${ipOrName}' in this world (hosts: ${this.hosts().map((x) => (x.name === x.ip ? x.ip : `${x.name}=${x.ip}`)).join(', ') || 'none'})`);
    }
    return h;
  }

  hosts(): SimHost[] {
    return this.hostList.slice().sort((a, b) => ipKey(a.ip) - ipKey(b.ip));
  }

  applyFaults(schedule: FaultSchedule): void {
    applyFaultSchedule(schedule, this.faultTarget);
  }

  /** An HTTP request from a host that runs no process for it (a scenario's `curl`). */
  httpRequest(fromIpOrName: string, url: string, opts: HttpRequestOptions, done: (r: HttpOutcome) => void): void {
    const h = this.host(fromIpOrName) as SimHostImpl;
    const owner: ConnOwner = { pid: 0, alive: true, conns: new Set<Conn>() };
    httpRequest(this.core, owner, h.index, url, opts, done);
  }

  /** A DNS query from a host (a scenario's `dig`): first answer's bytes, or null on timeout. */
  dnsQuery(
    fromIpOrName: string,
    server: string,
    query: Uint8Array,
    opts: { transport?: 'udp' | 'tcp'; timeoutMs?: number },
    done: (answer: Uint8Array | null) => void,
  ): void {
    const h = this.host(fromIpOrName) as SimHostImpl;
    dnsQuery(this.core, h.index, server, query, opts.transport ?? 'udp', opts.timeoutMs ?? 5000, done);
  }

  traceLine(text: string): void {
    this.kernel.note(String(text));
  }

  traceHash(): string {
    return this.kernel.trace.hex();
  }

  traceCount(): number {
    return this.kernel.trace.count();
  }

  traceTail(n: number): string[] {
    return this.kernel.trace.last(n);
  }

  /** Events executed so far (for benches). */
  eventsRun(): number {
    return this.kernel.executed;
  }

  private hostIndex(ipOrName: string, where: string): number {
    const h = this.byKey.get(ipOrName);
    if (h === undefined) throw new Error(`${where}: no host '${ipOrName}' in this world`);
    return h.index;
  }

  private makeNetwork(): SimNetwork {
    const core = this.core;
    const k = this.kernel;
    const list = (ips: string[], where: string): number[] => {
      if (!Array.isArray(ips)) throw new Error(`${where}: expected an array of host ips, got ${JSON.stringify(ips)}`);
      return ips.map((ip) => this.hostIndex(ip, where));
    };
    return {
      setDefaultLink: (cfg: Partial<LinkConfig>) => {
        core.setDefaultLink(cfg, 'net.setDefaultLink');
        k.note(`net default-link ${JSON.stringify(core.defaultLink)}`);
      },
      setLink: (from: string, to: string, cfg: Partial<LinkConfig>) => {
        const where = `net.setLink(${from} → ${to})`;
        core.setLink(this.hostIndex(from, where), this.hostIndex(to, where), cfg, where);
        k.note(`net link ${from}>${to} ${JSON.stringify(cfg)}`);
      },
      partition: (groups: string[][]) => {
        if (!Array.isArray(groups)) throw new Error(`net.partition: groups must be an array of arrays of ips, got ${JSON.stringify(groups)}`);
        const idx = groups.map((g) => list(g, 'net.partition'));
        core.reach.addGroups(idx);
        k.note(`net partition ${groups.map((g) => `[${g.join(',')}]`).join(' ')}`);
      },
      partitionOneWay: (fromIps: string[], toIps: string[]) => {
        core.reach.addOneWay(list(fromIps, 'net.partitionOneWay(from)'), list(toIps, 'net.partitionOneWay(to)'));
        k.note(`net partitionOneWay [${fromIps.join(',')}] -/-> [${toIps.join(',')}]`);
      },
      isolate: (ip: string) => {
        core.reach.addIsolate(this.hostIndex(ip, 'net.isolate'));
        k.note(`net isolate ${ip}`);
      },
      heal: () => {
        core.reach.heal();
        k.note('net heal');
      },
      canReach: (fromIp: string, toIp: string) =>
        core.reach.canReach(this.hostIndex(fromIp, 'net.canReach'), this.hostIndex(toIp, 'net.canReach')),
      stats: () => ({ ...core.stats }),
      linkCounts: () => core.linkCounts(),
    };
  }
}

function ipKey(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! * 256 + p[1]!) * 256 + p[2]!) * 256 + p[3]!;
}
