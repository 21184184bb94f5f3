// core/runtime/ports.ts — what a host needs from its world, as interfaces.
//
// Owns: the port contracts that sim/ implements virtually and transports/ implements with
// Node (sockets, timers, files, child processes). The host loop (core/runtime/host.ts) is
// written once against these and runs unchanged in both worlds.
// Must never: import an implementation. Every call here is synchronous; completions come
// back as callbacks that the world invokes later from its own event loop (never re-entrantly
// from inside the call that started them).
import type { LogLevel } from '../machine.ts';
import type { HttpRequest, HttpResponse } from '../http/types.ts';

export interface ClockPort {
  /** Milliseconds; virtual in sim, the wall clock in real mode. Never goes backwards. */
  nowMs(): number;
}

export interface TimerPort {
  /** Arm a one-shot timer; returns a handle. Firing calls `fire` from the world's loop. */
  set(atMs: number, fire: () => void): number;
  cancel(handle: number): void;
}

export interface DatagramHandler {
  (from: string, bytes: Uint8Array): void;
}

/** Message-oriented reliable channel per destination (TCP underneath): the world frames,
 *  connects on demand, reuses connections, and reports failures. Order is kept per
 *  (local port, destination) while a connection lives. */
export interface StreamMessageHandler {
  (from: string, bytes: Uint8Array): void;
}
export interface StreamFailureHandler {
  (to: string, reason: 'refused' | 'reset' | 'timeout', bytes: Uint8Array): void;
}

export interface NetworkPort {
  /** This host's IP address (e.g. '10.10.105.71' in sim, '127.0.0.2' in real mode). */
  readonly ip: string;
  /** Bind a UDP port on this host's ip. Throws if in use. */
  bindDatagram(port: number, onDatagram: DatagramHandler): void;
  /** Bind a TCP listener carrying framed messages. Throws if in use. */
  listenStream(port: number, onMessage: StreamMessageHandler): void;
  sendDatagram(fromPort: number, to: string, bytes: Uint8Array): void;
  /** Send one framed message to `to` over a reliable stream; on failure `onFailure` is called. */
  sendStream(fromPort: number, to: string, bytes: Uint8Array, onFailure: StreamFailureHandler): void;
  /** Close every socket this host opened (process exit). */
  closeAll(): void;
}

/** One write the host hands to `DiskPort.submit`: what a persist or removeFile effect asks for. */
export type DiskWrite =
  | { op: 'append'; path: string; data: Uint8Array; sync: boolean }
  | { op: 'replace'; path: string; data: Uint8Array; sync: boolean }
  | { op: 'remove'; path: string };

export interface DiskPort {
  /** Whole file, or null when it does not exist. Sees completed writes only. */
  read(path: string): Uint8Array | null;
  /** Atomic replace: after a crash the file is either the old or the new content. */
  writeAtomic(path: string, data: Uint8Array, sync: boolean): void;
  append(path: string, data: Uint8Array, sync: boolean): void;
  remove(path: string): void;
  /** Names (not paths) of entries directly under dir; [] when it does not exist. */
  list(dir: string): string[];
  exists(path: string): boolean;
  /**
   * Carry out `w` after every write submitted before it (a crash leaves a prefix of the
   * submitted writes), and call `done` once it is complete — durable when it asks for sync — with
   * null or the error. Writes submitted while others are being synced are synced together
   * (group commit). `done` may run before submit returns (a world whose disk has no latency,
   * the simulator) or later from the world's loop (real mode: the event loop stays free while
   * the disk works). Absent: the host calls the synchronous methods above instead.
   */
  submit?(w: DiskWrite, done: (err: Error | null) => void): void;
}

export type CheckSpec =
  | { type: 'http'; url: string; method: string; header: Record<string, string[]>; timeoutMs: number }
  | { type: 'tcp'; addr: string; timeoutMs: number }
  | { type: 'script'; args: string[]; timeoutMs: number };

export interface ProbeResult {
  status: 'passing' | 'warning' | 'critical';
  output: string;
}

export interface ProbePort {
  run(spec: CheckSpec, done: (result: ProbeResult) => void): void;
}

export interface LogPort {
  line(level: LogLevel, source: string, text: string, nowMs: number): void;
}

/** Client-facing servers (HTTP API, DNS). In sim they ride the virtual network; in real mode
 *  they are express and a UDP/TCP DNS server. Binding failures throw (sim) or surface through
 *  the real implementation's readiness promise. */
export interface ServePort {
  http(ip: string, port: number, onRequest: (req: HttpRequest, respond: (res: HttpResponse) => void) => void): void;
  dns(
    ip: string,
    port: number,
    onQuery: (bytes: Uint8Array, transport: 'udp' | 'tcp', respond: (bytes: Uint8Array | null) => void) => void,
  ): void;
  /** One DNS query to an upstream `server` ('ip:port') by UDP from this host (recursors).
   *  `done` gets the first reply, or null on timeout / unreachable; it is called exactly once,
   *  later, from the world's loop. Absent ⇒ the world cannot recurse (the agent answers SERVFAIL). */
  dnsForward?(server: string, bytes: Uint8Array, timeoutMs: number, done: (reply: Uint8Array | null) => void): void;
}

/** Bytes `CryptoPort.seal` adds to a plaintext: 1 version byte, a 12-byte nonce, a 16-byte tag. */
export const SEAL_OVERHEAD_BYTES = 29;
/** First byte of every sealed message (memberlist's encryption version 1 layout). */
export const SEAL_VERSION = 1;

/** Authenticated encryption for gossip (Consul's -encrypt): AES-GCM with the key's size
 *  (16, 24 or 32 bytes ⇒ AES-128/192/256). The nonce is the implementation's business: real
 *  mode draws it from the OS, the simulator derives it deterministically. */
export interface CryptoPort {
  /** [SEAL_VERSION][nonce 12][ciphertext][tag 16]: exactly SEAL_OVERHEAD_BYTES longer than plaintext. */
  seal(key: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or null when `sealed` is not a message sealed with `key` (wrong key, plaintext, tampered). */
  open(key: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

export interface Ports {
  clock: ClockPort;
  timers: TimerPort;
  net: NetworkPort;
  disk: DiskPort;
  probes: ProbePort;
  log: LogPort;
  /** Present for processes that run an agent's client-facing servers. */
  serve?: ServePort;
  /** Present where gossip may be encrypted (both worlds provide it). */
  crypto?: CryptoPort;
}
