// sim/process.ts — a simulated process: its ports, its sockets and timers, its death.
//
// Owns: the process-scoped Ports (clock, timers, net, disk, probes, log), signals, exit,
// kill -9, and releasing everything the process held when it ends.
// Must never: run anything for a dead process — timers, datagrams, stream callbacks and probe
// results addressed to it are dropped.
//
// Endings: exit(code) closes connections gracefully (peers see 'closed'); kill9() resets
// them (peers see 'reset'); a host crash destroys them silently (peers time out).
import type { LogLevel } from '../core/machine.ts';
import type { Ports } from '../core/runtime/ports.ts';
import { formatLogLine } from '../core/runtime/log-format.ts';
import type { EventType, HostState } from './kernel.ts';
import type { NetCore } from './net-core.ts';
import type { SimDisk } from './disk.ts';
import { bindDatagram, sendDatagram, unbindDatagram } from './datagrams.ts';
import { MessageStreams } from './streams.ts';
import { connect, listen, unlisten, type Conn, type ConnOwner } from './tcp.ts';
import { httpRequest, serveHttp, stopHttp } from './http.ts';
import { makeProbes } from './probes.ts';
import { makeServePort } from './serve.ts';
import { makeSimCrypto } from './crypto.ts';
import type { Signal, SimConn, SimHost, SimProcess, SimProcessContext } from './types.ts';

const SIGNAL_NUMBER: Record<Signal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

const TIMER: EventType = {
  name: 'timer',
  code: 9,
  phase: 'timer',
  run(ev) {
    if ((ev.a as SimProcessImpl).alive) (ev.b as () => void)();
  },
  describe(ev) {
    const p = ev.a as SimProcessImpl;
    return `timer ${p.hostState.ip} pid ${p.pid}`;
  },
};

const SIGNAL: EventType = {
  name: 'signal',
  code: 10,
  run(ev) {
    (ev.a as SimProcessImpl).deliverSignal(ev.b as Signal);
  },
  describe(ev) {
    const p = ev.a as SimProcessImpl;
    return `signal ${p.hostState.ip} pid ${p.pid} ${ev.b as string}`;
  },
};

export type ProcessMain = (ctx: SimProcessContext) => void;

export class SimProcessImpl implements SimProcess, ConnOwner {
  readonly output: string[] = [];
  exited = false;
  exitCode: number | null = null;
  readonly conns = new Set<Conn>();
  readonly ports: Ports;
  readonly ctx: SimProcessContext;
  private readonly udpPorts: number[] = [];
  private readonly tcpPorts: number[] = [];
  private readonly signalHandlers: ((sig: Signal) => void)[] = [];
  private readonly streams: MessageStreams;

  constructor(
    readonly pid: number,
    readonly argv: string[],
    readonly main: ProcessMain,
    readonly host: SimHost,
    readonly hostState: HostState,
    readonly net: NetCore,
    disk: SimDisk,
    private readonly onEnd: (p: SimProcessImpl) => void,
  ) {
    const k = net.kernel;
    const hi = hostState.index;
    this.streams = new MessageStreams(net, this, hi);
    const self = this;
    this.ports = {
      clock: { nowMs: () => k.nowMs },
      timers: {
        set(atMs: number, fire: () => void): number {
          if (typeof atMs !== 'number' || Number.isNaN(atMs)) throw new Error(`timers.set: atMs must be a number, got ${String(atMs)}`);
          return k.atCancellable(atMs, TIMER, hi, self.pid, self, fire);
        },
        cancel(handle: number): void {
          k.cancel(handle);
        },
      },
      net: {
        ip: hostState.ip,
        bindDatagram(port, onDatagram) {
          bindDatagram(net, self, hi, port, onDatagram);
          self.udpPorts.push(port);
        },
        listenStream(port, onMessage) {
          self.streams.listen(port, onMessage);
          self.tcpPorts.push(port);
        },
        sendDatagram(fromPort, to, bytes) {
          if (self.alive) sendDatagram(net, hi, fromPort, to, bytes);
        },
        sendStream(fromPort, to, bytes, onFailure) {
          if (self.alive) self.streams.send(fromPort, to, bytes, onFailure);
        },
        closeAll() {
          self.closeSockets('close');
        },
      },
      disk,
      probes: makeProbes(net, this, hi),
      log: {
        line(level: LogLevel, source: string, text: string, nowMs: number) {
          self.stdout(formatLogLine(level, source, text, k.epochMs + nowMs));
        },
      },
      serve: makeServePort(net, this, hi, { udp: (p) => self.udpPorts.push(p), tcp: (p) => self.tcpPorts.push(p) }),
      crypto: makeSimCrypto(hostState.ip, pid),
    };
    this.ctx = {
      pid,
      argv,
      host,
      ports: this.ports,
      tcp: {
        listen(port, onAccept) {
          if (typeof onAccept !== 'function') throw new Error(`tcp.listen(${port}): onAccept is not a function`);
          listen(net, { owner: self, port, kind: 'stream', onAccept: (c) => onAccept(c as SimConn) }, hi);
          self.tcpPorts.push(port);
        },
        unlisten(port) {
          unlisten(net, self, hi, port);
        },
        connect(to, localPort = 0): SimConn {
          if (!self.alive) throw new Error(`tcp.connect(${to}): process ${self.pid} has exited`);
          return connect(net, self, hi, localPort, to);
        },
      },
      http: {
        serve(port, handler) {
          serveHttp(net, self, hi, port, handler);
          self.tcpPorts.push(port);
        },
        stop(port) {
          stopHttp(net, self, hi, port);
        },
        request(url, opts, done) {
          httpRequest(net, self, hi, url, opts, done);
        },
      },
      stdout: (line: string) => this.stdout(line),
      exit: (code: number) => this.end(code, 'exit'),
      onSignal: (handler) => {
        if (typeof handler !== 'function') throw new Error('onSignal: handler is not a function');
        this.signalHandlers.push(handler);
      },
    };
  }

  get alive(): boolean {
    return !this.exited;
  }

  stdout(line: string): void {
    if (this.exited) return;
    this.output.push(line);
    this.net.kernel.note(`out ${this.hostState.ip} pid ${this.pid}: ${line}`);
  }

  signal(sig: Signal): void {
    if (!(sig in SIGNAL_NUMBER)) throw new Error(`signal: unknown signal '${String(sig)}' (use SIGINT, SIGTERM or SIGHUP)`);
    if (this.exited) return;
    const k = this.net.kernel;
    k.at(k.nowMs, SIGNAL, this.hostState.index, SIGNAL_NUMBER[sig], this, sig);
  }

  deliverSignal(sig: Signal): void {
    if (this.exited) return;
    if (this.signalHandlers.length === 0) return this.end(128 + SIGNAL_NUMBER[sig], 'exit');
    for (const h of this.signalHandlers.slice()) {
      if (this.exited) return;
      h(sig);
    }
  }

  kill9(): void {
    this.end(137, 'reset');
  }

  /** How connections end: 'close' (FIN), 'reset' (RST), 'destroy' (host crash: silence). */
  end(code: number, conns: 'exit' | 'reset' | 'destroy'): void {
    if (this.exited) return;
    if (!Number.isInteger(code)) throw new Error(`exit: code must be an integer, got ${code}`);
    this.closeSockets(conns === 'exit' ? 'close' : conns);
    this.exited = true;
    this.exitCode = code;
    this.net.kernel.note(`exit ${this.hostState.ip} pid ${this.pid} code ${code}`);
    this.onEnd(this);
  }

  private closeSockets(how: 'close' | 'reset' | 'destroy'): void {
    const hi = this.hostState.index;
    for (const p of this.udpPorts) unbindDatagram(this.net, this, hi, p);
    for (const p of this.tcpPorts) unlisten(this.net, this, hi, p);
    this.udpPorts.length = 0;
    this.tcpPorts.length = 0;
    if (how === 'close') this.streams.closeAll();
    // Conn ids increase with creation, and Set order is insertion order: deterministic.
    for (const c of [...this.conns]) {
      if (how === 'close') c.close();
      else if (how === 'reset') c.reset();
      else c.destroy();
    }
    this.conns.clear();
  }
}
