// sim/host.ts — a virtual machine: an ip, a disk, processes, host-level HTTP services.
//
// Owns: spawning processes, crashing the host (every process killed, disk crash semantics,
// network silence until the next spawn), restarting the last program, CPU stalls (the kernel
// holds the host's events and releases them expired-timers-first; see sim/kernel.ts).
// Must never: keep anything but the disk across a crash.
import type { HostState, Kernel } from './kernel.ts';
import type { NetCore } from './net-core.ts';
import { SimDisk } from './disk.ts';
import { serveHttp, stopHttp, type SimHttpHandler } from './http.ts';
import { SimProcessImpl, type ProcessMain } from './process.ts';
import type { Conn, ConnOwner } from './tcp.ts';
import type { SimHost, SimProcess } from './types.ts';

/** Owner of host-level services: alive while the host is up. */
class ServiceOwner implements ConnOwner {
  readonly pid = 0;
  readonly conns = new Set<Conn>();
  constructor(private readonly host: SimHostImpl) {}
  get alive(): boolean {
    return this.host.up;
  }
}

export class SimHostImpl implements SimHost, HostState {
  up = true;
  stalledUntilMs = 0;
  readonly disk = new SimDisk();
  private running: SimProcessImpl[] = [];
  private last: { argv: string[]; main: ProcessMain } | null = null;
  private services: ServiceOwner;
  private readonly httpPorts = new Set<number>();
  private crashes = 0;

  constructor(
    readonly index: number,
    readonly ip: string,
    readonly name: string,
    private readonly kernel: Kernel,
    private readonly net: NetCore,
    private readonly nextPid: () => number,
  ) {
    this.services = new ServiceOwner(this);
  }

  spawn(argv: string[], main: ProcessMain): SimProcess {
    if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) throw new Error(`spawn on ${this.ip}: argv must be an array of strings`);
    if (typeof main !== 'function') throw new Error(`spawn on ${this.ip}: main must be a function (ctx) => void`);
    this.up = true;
    this.last = { argv: argv.slice(), main };
    const pid = this.nextPid();
    const p = new SimProcessImpl(pid, argv.slice(), main, this, this, this.net, this.disk, (ended) => {
      this.running = this.running.filter((x) => x !== ended);
    });
    this.running.push(p);
    this.kernel.note(`spawn ${this.ip} pid ${pid} ${argv.join(' ')}`);
    main(p.ctx);
    return p;
  }

  processes(): SimProcess[] {
    return this.running.slice().sort((a, b) => a.pid - b.pid);
  }

  crash(): void {
    this.kernel.note(`crash ${this.ip}`);
    for (const p of this.running.slice()) p.end(137, 'destroy');
    for (const c of [...this.services.conns]) c.destroy();
    for (const port of [...this.httpPorts].sort((a, b) => a - b)) stopHttp(this.net, this.services, this.index, port);
    this.httpPorts.clear();
    this.services = new ServiceOwner(this);
    this.disk.crash(this.kernel.rng.fork(`disk-crash/${this.ip}/${++this.crashes}`));
    this.up = false;
    this.stalledUntilMs = 0;
    // A crash ends the stall: what it held now meets a dead process and a down host.
    this.kernel.releaseHeld(this.index);
  }

  restart(): SimProcess | null {
    if (this.last === null || this.running.length > 0) {
      this.kernel.note(`restart ${this.ip} skipped (${this.last === null ? 'nothing ran here' : 'still running'})`);
      return null;
    }
    return this.spawn(this.last.argv, this.last.main);
  }

  stall(durationMs: number): void {
    if (typeof durationMs !== 'number' || !(durationMs >= 0) || !Number.isFinite(durationMs)) {
      throw new Error(`stall on ${this.ip}: durationMs must be a finite number ≥ 0, got ${String(durationMs)}`);
    }
    const until = this.kernel.nowMs + durationMs;
    if (until > this.stalledUntilMs) this.stalledUntilMs = until;
    this.kernel.note(`stall ${this.ip} until ${until}`);
  }

  serveHttp(port: number, handler: SimHttpHandler): void {
    if (!this.up) throw new Error(`serveHttp(${port}) on ${this.ip}: the host is down (crashed); spawn or restart a process first`);
    serveHttp(this.net, this.services, this.index, port, handler);
    this.httpPorts.add(port);
    this.kernel.note(`http-serve ${this.ip}:${port}`);
  }

  stopHttp(port: number): void {
    stopHttp(this.net, this.services, this.index, port);
    this.httpPorts.delete(port);
    this.kernel.note(`http-stop ${this.ip}:${port}`);
  }
}
