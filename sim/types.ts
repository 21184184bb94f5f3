// sim/types.ts — the public shapes of the simulated world (see helpers/SIM_API.md).
//
// Owns: interfaces users code against (hosts, processes, network, faults, connections).
// Must never: contain behaviour; implementations live in host.ts, process.ts, world.ts.
import type { Ports } from '../core/runtime/ports.ts';
import type { Rng } from '../core/rng.ts';
import type { LinkConfig } from './links.ts';
import type { HttpOutcome, HttpRequestOptions, SimHttpHandler } from './http.ts';
import type { CloseReason } from './tcp.ts';

export type { LinkConfig } from './links.ts';
export type { SimHttpHandler, SimHttpRequest, SimHttpResponse, HttpOutcome, HttpRequestOptions } from './http.ts';
export type { CloseReason } from './tcp.ts';

export type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export interface SimNetwork {
  setDefaultLink(cfg: Partial<LinkConfig>): void;
  setLink(fromIp: string, toIp: string, cfg: Partial<LinkConfig>): void;
  partition(groups: string[][]): void;
  partitionOneWay(fromIps: string[], toIps: string[]): void;
  isolate(ip: string): void;
  heal(): void;
  canReach(fromIp: string, toIp: string): boolean;
  stats(): { datagramsSent: number; datagramsDelivered: number; datagramsDropped: number; streamMessagesDelivered: number; bytes: number };
  linkCounts(): Map<string, number>;
}

/** A TCP-like connection (low-level stream API). Each send() arrives as one onData chunk. */
export interface SimConn {
  readonly localAddr: string;
  readonly remoteAddr: string;
  readonly state: 'connecting' | 'open' | 'closed';
  onOpen: (() => void) | null;
  onData: ((bytes: Uint8Array) => void) | null;
  /** 'closed' = the peer closed gracefully; others are failures. Not called after our own close(). */
  onClose: ((reason: CloseReason) => void) | null;
  send(bytes: Uint8Array): void;
  close(): void;
}

/** Low-level TCP for a process (beside the message streams of ports.net). */
export interface SimTcp {
  listen(port: number, onAccept: (conn: SimConn) => void): void;
  unlisten(port: number): void;
  /** localPort 0 (default) = an ephemeral port. */
  connect(to: string, localPort?: number): SimConn;
}

export interface SimHttpClient {
  serve(port: number, handler: SimHttpHandler): void;
  stop(port: number): void;
  request(url: string, opts: HttpRequestOptions, done: (r: HttpOutcome) => void): void;
}

export interface SimProcessContext {
  readonly pid: number;
  readonly argv: string[];
  readonly host: SimHost;
  readonly ports: Ports;
  readonly tcp: SimTcp;
  readonly http: SimHttpClient;
  stdout(line: string): void;
  exit(code: number): void;
  onSignal(handler: (sig: Signal) => void): void;
}

export interface SimProcess {
  readonly pid: number;
  readonly argv: string[];
  readonly output: string[];
  readonly exited: boolean;
  readonly exitCode: number | null;
  signal(sig: Signal): void;
  kill9(): void;
}

export interface SimHost {
  readonly ip: string;
  readonly name: string;
  readonly disk: import('./disk.ts').SimDisk;
  /** false between crash() and the next spawn()/restart(). */
  readonly up: boolean;
  spawn(argv: string[], main: (ctx: SimProcessContext) => void): SimProcess;
  processes(): SimProcess[];
  crash(): void;
  restart(): SimProcess | null;
  stall(durationMs: number): void;
  /** A host-level HTTP service (not owned by any process); gone on crash. */
  serveHttp(port: number, handler: SimHttpHandler): void;
  stopHttp(port: number): void;
}

export type Fault =
  | { atMs: number; kind: 'partition'; groups: string[][] }
  | { atMs: number; kind: 'partitionOneWay'; from: string[]; to: string[] }
  | { atMs: number; kind: 'isolate'; ip: string }
  | { atMs: number; kind: 'heal' }
  | { atMs: number; kind: 'link'; from: string; to: string; cfg: Partial<LinkConfig> }
  | { atMs: number; kind: 'crash'; ip: string }
  | { atMs: number; kind: 'restart'; ip: string }
  | { atMs: number; kind: 'stall'; ip: string; durationMs: number };
export type FaultSchedule = Fault[];

export interface SimWorldOptions {
  seed: string | number;
  /** Wall-clock ms of virtual t=0, for log stamps. Default 2015-07-03T09:18:25Z. */
  epochMs?: number;
  defaultLink?: Partial<LinkConfig>;
  traceEnabled?: boolean;
}

export type { Rng };
