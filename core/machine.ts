// core/machine.ts — the one shape every protocol machine in Muster has.
//
// Owns: the event-in / effects-out contract and the effect vocabulary shared by Raft,
// gossip, the catalog, the agent, DNS and HTTP handling.
// Must never: perform I/O, read a clock, draw randomness of its own, or use async/Promises.
//
// A machine is driven by a host (core/runtime/host.ts) in both worlds. The host hands in
// one input at a time together with the current time in milliseconds, and carries out
// the returned effects IN ARRAY ORDER before handing in the next input. That ordering
// is the machine's only way to say "persist before send" or "reply after commit", so:
//
//   * a `persist` effect placed before a `send` effect is durable (synced when `sync`)
//     before the message leaves the host;
//   * a `timer` effect re-arms the named timer (one timer per name; re-arming replaces);
//     when it fires the host steps the machine with `{ kind: 'timer', name }`;
//   * effects a machine emits for its parent (events upward) use kind `emit`; a
//     composing machine consumes them and never forwards them to the host.

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERR';

/** Network endpoint as "ip:port" (IPv4 dotted quad). */
export type Addr = string;

/** Transport class of a message: 'udp' = datagram (lossy, ≤1400 B payload),
 *  'tcp' = message over a reliable ordered stream (may still fail as a whole). */
export type Via = 'udp' | 'tcp';

export interface TimerEffect {
  kind: 'timer';
  name: string;
  /** Absolute time (ms, same clock as the `nowMs` handed in) at which the timer fires. */
  atMs: number;
}
export interface CancelTimerEffect {
  kind: 'cancelTimer';
  name: string;
}
export interface LogEffect {
  kind: 'log';
  level: LogLevel;
  /** Consul-style subsystem prefix: 'raft', 'serf', 'memberlist', 'consul', 'agent', 'dns', … */
  source: string;
  text: string;
}
export interface SendEffect<M = unknown> {
  kind: 'send';
  /** Source port on this host (the listening port the reply should come back to). */
  fromPort: number;
  to: Addr;
  via: Via;
  msg: M;
}
export interface PersistEffect {
  kind: 'persist';
  /** Path relative to the agent's data dir, '/'-separated, e.g. 'raft/peers.json'. */
  path: string;
  data: Uint8Array;
  /** 'replace' = atomic write-temp-then-rename; 'append' = append to the file. */
  mode: 'replace' | 'append';
  /** fsync before the next effect is carried out. */
  sync: boolean;
}
export interface RemoveFileEffect {
  kind: 'removeFile';
  path: string;
}

/** Effects every machine may emit. Machine-specific effects extend this union. */
export type BaseEffect<M = unknown> =
  | TimerEffect
  | CancelTimerEffect
  | LogEffect
  | SendEffect<M>
  | PersistEffect
  | RemoveFileEffect;

/** Inputs every machine understands. */
export interface TimerInput {
  kind: 'timer';
  name: string;
}
export interface ReceiveInput<M = unknown> {
  kind: 'receive';
  from: Addr;
  /** Local port the message arrived on. */
  port: number;
  via: Via;
  msg: M;
}
/** A 'tcp' send could not be delivered (nothing listening, connection reset, timeout). */
export interface UnreachableInput<M = unknown> {
  kind: 'unreachable';
  to: Addr;
  via: Via;
  reason: 'refused' | 'reset' | 'timeout';
  msg: M;
}

/** The single entry point. `nowMs` only grows between calls on one machine. */
export interface Machine<In, Out> {
  step(nowMs: number, input: In): Out[];
}

/** Helpers to build effects without typos. */
export const fx = {
  timer: (name: string, atMs: number): TimerEffect => ({ kind: 'timer', name, atMs }),
  cancelTimer: (name: string): CancelTimerEffect => ({ kind: 'cancelTimer', name }),
  log: (level: LogLevel, source: string, text: string): LogEffect => ({ kind: 'log', level, source, text }),
  send: <M>(fromPort: number, to: Addr, via: Via, msg: M): SendEffect<M> => ({ kind: 'send', fromPort, to, via, msg }),
  persist: (path: string, data: Uint8Array, mode: 'replace' | 'append', sync: boolean): PersistEffect => ({
    kind: 'persist',
    path,
    data,
    mode,
    sync,
  }),
};

export function splitAddr(addr: Addr): { ip: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i <= 0) throw new Error(`address '${addr}' is not ip:port`);
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`address '${addr}' has a bad port`);
  return { ip: addr.slice(0, i), port };
}

export function joinAddr(ip: string, port: number): Addr {
  return `${ip}:${port}`;
}
