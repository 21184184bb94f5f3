// core/runtime/host.ts — the host loop, written once for both worlds.
//
// Owns: feeding inputs into one machine and carrying out its effects through the ports, in
// order: persist (and sync) before the next effect, messages encoded by the wire codec,
// named timers, decoded receives, stream failures turned back into `unreachable` inputs.
// Must never: interpret protocol content, or call the machine re-entrantly. Inputs that
// arrive while effects are being carried out are queued and stepped afterwards, in order.
import type { BaseEffect, LogLevel, ReceiveInput, TimerInput, UnreachableInput, Via } from '../machine.ts';
import type { Ports } from './ports.ts';

export interface WireCodec<M> {
  encode(msg: M): Uint8Array;
  decode(bytes: Uint8Array): { ok: true; msg: M } | { ok: false; error: { code: string; message: string } };
}

export type HostInput<M> = TimerInput | ReceiveInput<M> | UnreachableInput<M>;

export interface HostMachine<In, Out> {
  step(nowMs: number, input: In): Out[];
}

export interface HostOptions<M, Out extends { kind: string }> {
  ports: Ports;
  /** Prefix for every persisted path, e.g. '/tmp/consul'. No trailing slash. */
  dataDir: string;
  /** Ports to bind on the host's ip before the first input. */
  listen: { udp: number[]; tcp: number[] };
  codec: WireCodec<M>;
  /** Largest encoded datagram (bytes); larger ones are dropped with an ERR log line. */
  maxDatagramBytes?: number;
  /** Carries out machine-specific effects (probes, HTTP replies …). Return true if handled. */
  extraEffect?: (effect: Out, host: Host<M, Out>) => boolean;
}

const DEFAULT_MAX_DATAGRAM_BYTES = 1400;

export class Host<M, Out extends { kind: string }> {
  private readonly timers = new Map<string, number>();
  private readonly queue: unknown[] = [];
  private delivering = false;
  private stopped = false;
  private machine: HostMachine<any, Out> | null = null;

  constructor(readonly opts: HostOptions<M, Out>) {}

  get ports(): Ports {
    return this.opts.ports;
  }

  get running(): boolean {
    return this.machine !== null && !this.stopped;
  }

  /** Bind sockets and attach the machine. Binding errors propagate to the caller. */
  start(machine: HostMachine<any, Out>): void {
    if (this.machine) throw new Error('host already started');
    const { net } = this.opts.ports;
    for (const port of this.opts.listen.udp) {
      net.bindDatagram(port, (from, bytes) => this.onBytes(port, 'udp', from, bytes));
    }
    for (const port of this.opts.listen.tcp) {
      net.listenStream(port, (from, bytes) => this.onBytes(port, 'tcp', from, bytes));
    }
    this.machine = machine;
  }

  /** Step the machine with one input (queued if called while effects are running). */
  deliver(input: unknown): void {
    if (this.stopped || !this.machine) return;
    this.queue.push(input);
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const next = this.queue.shift();
        const effects = this.machine.step(this.opts.ports.clock.nowMs(), next);
        for (const e of effects) {
          if (this.stopped) break;
          this.carryOut(e);
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /** Cancel timers and close sockets. The machine is dropped; nothing more is delivered. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.timers.values()) this.opts.ports.timers.cancel(h);
    this.timers.clear();
    this.queue.length = 0;
    this.opts.ports.net.closeAll();
  }

  log(level: LogLevel, source: string, text: string): void {
    this.opts.ports.log.line(level, source, text, this.opts.ports.clock.nowMs());
  }

  private path(rel: string): string {
    return `${this.opts.dataDir}/${rel}`;
  }

  private onBytes(port: number, via: Via, from: string, bytes: Uint8Array): void {
    if (this.stopped) return;
    const decoded = this.opts.codec.decode(bytes);
    if (!decoded.ok) {
      this.log('WARN', 'host', `dropping malformed ${via} message from ${from}: ${decoded.error.code}: ${decoded.error.message}`);
      return;
    }
    const input: ReceiveInput<M> = { kind: 'receive', from, port, via, msg: decoded.msg };
    this.deliver(input);
  }

  private carryOut(e: Out): void {
    const effect = e as unknown as BaseEffect<M>;
    const { ports } = this.opts;
    switch (effect.kind) {
      case 'timer': {
        const old = this.timers.get(effect.name);
        if (old !== undefined) ports.timers.cancel(old);
        const name = effect.name;
        const handle = ports.timers.set(effect.atMs, () => {
          if (this.timers.get(name) !== handle) return;
          this.timers.delete(name);
          const input: TimerInput = { kind: 'timer', name };
          this.deliver(input);
        });
        this.timers.set(name, handle);
        return;
      }
      case 'cancelTimer': {
        const old = this.timers.get(effect.name);
        if (old !== undefined) ports.timers.cancel(old);
        this.timers.delete(effect.name);
        return;
      }
      case 'log':
        this.log(effect.level, effect.source, effect.text);
        return;
      case 'persist':
        if (effect.mode === 'replace') ports.disk.writeAtomic(this.path(effect.path), effect.data, effect.sync);
        else ports.disk.append(this.path(effect.path), effect.data, effect.sync);
        return;
      case 'removeFile':
        ports.disk.remove(this.path(effect.path));
        return;
      case 'send': {
        const bytes = this.opts.codec.encode(effect.msg);
        if (effect.via === 'udp') {
          const max = this.opts.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
          if (bytes.length > max) {
            this.log('ERR', 'host', `datagram to ${effect.to} is ${bytes.length} bytes, over the ${max}-byte limit; dropped`);
            return;
          }
          ports.net.sendDatagram(effect.fromPort, effect.to, bytes);
        } else {
          const msg = effect.msg;
          ports.net.sendStream(effect.fromPort, effect.to, bytes, (to, reason) => {
            const input: UnreachableInput<M> = { kind: 'unreachable', to, via: 'tcp', reason, msg };
            this.deliver(input);
          });
        }
        return;
      }
      default:
        if (this.opts.extraEffect && this.opts.extraEffect(e, this)) return;
        this.log('ERR', 'host', `no handler for effect kind '${(e as { kind: string }).kind}'`);
    }
  }
}
