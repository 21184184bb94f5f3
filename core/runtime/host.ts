// core/runtime/host.ts — the host loop, written once for both worlds.
//
// Owns: feeding inputs into one machine and carrying out its effects through the ports, in
// order: persist (and sync) before the next effect, messages encoded by the wire codec,
// named timers, decoded receives, stream failures turned back into `unreachable` inputs.
// Must never: interpret protocol content, or call the machine re-entrantly. Inputs that
// arrive while effects are being carried out are queued and stepped afterwards, in order.
//
// Writes that do not block the loop (a world whose DiskPort has `submit`, i.e. real mode):
// persist and removeFile effects are submitted to the disk in order and the host goes on; every
// later effect that leaves the process (send, reply, probe, exit: anything but timers and log
// lines) is held until the writes before it are complete, so the world sees exactly what it
// would see had each write blocked (persist-before-send, as machine.ts promises). Inputs that
// arrive while a write is in flight wait, and are stepped together once every write is done:
// their writes then go to the disk in one group (group commit: one fsync for all the
// AppendEntries, votes and proposals that came in during the previous one). Inputs the
// `readOnly` option names (DNS queries, HTTP GETs …) do not wait: they are stepped at once and
// their effects go out at once, unless they write themselves. That is safe because the state
// they see is the state after the last group stepped, and a group only counts writes of earlier
// groups as durable (Raft's leader counts its own entries toward a commit when acknowledgements
// arrive, which is in a later group than the write). The exception is a single-voter Raft,
// which commits its own write in the same step; a world must not mark reads readOnly there.
// In a world whose disk completes at once (the simulator), nothing is ever held: the effect
// order is the same as with the synchronous methods.
//
// Encryption (optional, Consul's -encrypt): a message between two ports of one entry's
// `ports` (the local port it leaves from or arrives on, and the peer's port in its address)
// is sealed after encoding and opened before decoding. Messages with one end elsewhere (an RPC reply
// from :8300 to a client's :8301) stay plain, as Consul's RPC is not covered by the gossip key.
// The datagram limit applies to the sealed size; the machine budgets for SEAL_OVERHEAD_BYTES.
import type { BaseEffect, LogLevel, ReceiveInput, TimerInput, UnreachableInput, Via } from '../machine.ts';
import type { DiskWrite, Ports } from './ports.ts';

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
  /** Seal/open messages between the ports of an entry with its key (needs `ports.crypto`).
   *  Several entries = several pools with their own keys (LAN and WAN keyrings). */
  encrypt?: HostEncryption | HostEncryption[];
  /** Inputs that only read: stepped (and answered) while a write is in flight instead of
   *  after it. See the header for when this is safe. Default: none. */
  readOnly?: (input: unknown) => boolean;
  /** A submitted write failed. The host has logged it and stopped (it can no longer promise
   *  persist-before-send). Default: the error is thrown from the disk's completion callback. */
  onDiskError?: (err: Error) => void;
}

export interface HostEncryption {
  ports: number[];
  /** Primary key: every outgoing message is sealed with it. */
  key: Uint8Array;
  /** Every installed key tried when opening (default [key]); Consul's keyring may hold several. */
  keys?: Uint8Array[];
  /** Log source of decrypt failures (default 'memberlist', whose lines Consul prints). */
  logSource?: string;
}

const DEFAULT_MAX_DATAGRAM_BYTES = 1400;

export class Host<M, Out extends { kind: string }> {
  private readonly timers = new Map<string, number>();
  private readonly queue: unknown[] = [];
  private delivering = false;
  private stopped = false;
  private machine: HostMachine<any, Out> | null = null;
  /** Sequence number of the last write handed to DiskPort.submit, and of the last one complete
   *  with all before it complete too. Equal ⇒ nothing in flight. */
  private submittedSeq = 0;
  private completedSeq = 0;
  /** Writes that completed ahead of an earlier one (a disk should not do that; handled anyway). */
  private readonly doneEarly = new Set<number>();
  /** Effects waiting for the writes before them: released in order as `completedSeq` passes. */
  private readonly held: { afterSeq: number; effect: Out }[] = [];

  /** Local port → the encryption entry covering it. */
  private readonly sealing = new Map<number, HostEncryption>();

  constructor(readonly opts: HostOptions<M, Out>) {
    const list = opts.encrypt === undefined ? [] : Array.isArray(opts.encrypt) ? opts.encrypt : [opts.encrypt];
    if (list.length > 0 && !opts.ports.crypto) {
      throw new Error('gossip encryption is configured but this world has no crypto port (Ports.crypto)');
    }
    for (const enc of list) {
      for (const k of [enc.key, ...(enc.keys ?? [])]) {
        if (![16, 24, 32].includes(k.length)) throw new Error(`gossip encryption key is ${k.length} bytes; it must be 16, 24 or 32`);
      }
      for (const p of enc.ports) {
        if (this.sealing.has(p)) throw new Error(`port ${p} is in two encryption entries; give each port one key set`);
        this.sealing.set(p, enc);
      }
    }
  }

  /** The entry sealing traffic between local port `port` and `peer` ('ip:port'), or null. */
  private sealedBy(port: number, peer: string): HostEncryption | null {
    const enc = this.sealing.get(port);
    if (!enc) return null;
    const peerPort = Number(peer.slice(peer.lastIndexOf(':') + 1));
    return enc.ports.includes(peerPort) ? enc : null;
  }

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

  /** True while a submitted write is not complete yet. */
  get writing(): boolean {
    return this.completedSeq < this.submittedSeq;
  }

  /** Step the machine with one input (queued if called while effects are running, or — unless
   *  it is readOnly — while a write is in flight; see the header). */
  deliver(input: unknown): void {
    if (this.stopped || !this.machine) return;
    if (this.writing && !this.delivering) {
      if (this.opts.readOnly?.(input)) {
        this.stepAlone(input);
      } else {
        this.queue.push(input);
      }
      return;
    }
    this.queue.push(input);
    if (!this.delivering) this.drainQueue();
  }

  /** Step every queued input, including those queued meanwhile (one group for the disk). */
  private drainQueue(): void {
    this.delivering = true;
    try {
      while (this.queue.length > 0 && !this.stopped) this.stepOne(this.queue.shift(), false);
    } finally {
      this.delivering = false;
    }
  }

  /** A readOnly input stepped while writes are in flight; queued inputs keep waiting for them. */
  private stepAlone(input: unknown): void {
    this.delivering = true;
    try {
      this.stepOne(input, true);
    } finally {
      this.delivering = false;
    }
    if (!this.writing && this.queue.length > 0 && !this.stopped) this.drainQueue();
  }

  private stepOne(input: unknown, readOnly: boolean): void {
    const effects = this.machine!.step(this.opts.ports.clock.nowMs(), input);
    let wrote = false;
    for (const e of effects) {
      if (this.stopped) break;
      switch (e.kind) {
        case 'persist':
        case 'removeFile':
          this.write(e as unknown as BaseEffect<M>);
          wrote = true;
          break;
        case 'timer':
        case 'cancelTimer':
        case 'log':
          this.carryOut(e);
          break;
        default:
          // Leaves the process: only after the writes before it (a readOnly input's own
          // effects go ahead of other inputs' writes, never of its own).
          if (this.writing && (!readOnly || wrote)) this.held.push({ afterSeq: this.submittedSeq, effect: e });
          else this.carryOut(e);
      }
    }
  }

  private write(effect: BaseEffect<M>): void {
    const { disk } = this.opts.ports;
    let w: DiskWrite;
    if (effect.kind === 'persist') {
      w = { op: effect.mode === 'replace' ? 'replace' : 'append', path: this.path(effect.path), data: effect.data, sync: effect.sync };
    } else if (effect.kind === 'removeFile') {
      w = { op: 'remove', path: this.path(effect.path) };
    } else return;
    if (!disk.submit) {
      if (w.op === 'replace') disk.writeAtomic(w.path, w.data, w.sync);
      else if (w.op === 'append') disk.append(w.path, w.data, w.sync);
      else disk.remove(w.path);
      return;
    }
    const seq = ++this.submittedSeq;
    disk.submit(w, (err) => this.onWritten(seq, err));
  }

  private onWritten(seq: number, err: Error | null): void {
    if (this.stopped) return;
    if (err) {
      this.log('ERR', 'host', `${err.message}; stopping, as later effects could no longer wait for their writes`);
      this.stop();
      if (this.opts.onDiskError) this.opts.onDiskError(err);
      else throw err;
      return;
    }
    this.doneEarly.add(seq);
    while (this.doneEarly.delete(this.completedSeq + 1)) this.completedSeq++;
    if (this.delivering) {
      // Completed inside submit (a disk without latency): nothing was held behind it yet.
      this.release();
      return;
    }
    this.delivering = true;
    try {
      this.release();
    } finally {
      this.delivering = false;
    }
    if (!this.writing && this.queue.length > 0 && !this.stopped) this.drainQueue();
  }

  private release(): void {
    while (this.held.length > 0 && this.held[0]!.afterSeq <= this.completedSeq && !this.stopped) {
      this.carryOut(this.held.shift()!.effect);
    }
  }

  /** Cancel timers and close sockets. The machine is dropped; nothing more is delivered. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.timers.values()) this.opts.ports.timers.cancel(h);
    this.timers.clear();
    this.queue.length = 0;
    this.held.length = 0;
    this.opts.ports.net.closeAll();
  }

  log(level: LogLevel, source: string, text: string): void {
    this.opts.ports.log.line(level, source, text, this.opts.ports.clock.nowMs());
  }

  private path(rel: string): string {
    return `${this.opts.dataDir}/${rel}`;
  }

  private onBytes(port: number, via: Via, from: string, raw: Uint8Array): void {
    if (this.stopped) return;
    let bytes = raw;
    const enc = this.sealedBy(port, from);
    if (enc) {
      const opened = this.open(enc, raw);
      if (!opened) {
        const src = enc.logSource ?? 'memberlist';
        const what = via === 'udp' ? 'Decrypt packet failed' : 'failed to receive';
        this.log('ERR', src, `${what}: No installed keys could decrypt the message from=${from}`);
        return;
      }
      bytes = opened;
    }
    const decoded = this.opts.codec.decode(bytes);
    if (!decoded.ok) {
      this.log('WARN', 'host', `dropping malformed ${via} message from ${from}: ${decoded.error.code}: ${decoded.error.message}`);
      return;
    }
    const input: ReceiveInput<M> = { kind: 'receive', from, port, via, msg: decoded.msg };
    this.deliver(input);
  }

  private open(enc: HostEncryption, sealed: Uint8Array): Uint8Array | null {
    const crypto = this.opts.ports.crypto!;
    for (const k of enc.keys && enc.keys.length > 0 ? enc.keys : [enc.key]) {
      const plain = crypto.open(k, sealed);
      if (plain) return plain;
    }
    return null;
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
      case 'removeFile':
        this.write(effect);
        return;
      case 'send': {
        const encoded = this.opts.codec.encode(effect.msg);
        const enc = this.sealedBy(effect.fromPort, effect.to);
        const bytes = enc ? ports.crypto!.seal(enc.key, encoded) : encoded;
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
