// transports/ports.ts — the real world's Ports, composed for one agent process.
//
// Owns: wiring RealClock, RealTimers, RealNetwork, RealDisk, RealProbes, RealLog and RealCrypto into the
// `Ports` the host loop runs on, checking up front that the bind ip belongs to this
// machine, and shutting everything down.
// Must never: hide a startup error behind a later crash — a bad ip fails here, clearly.
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Writable } from 'node:stream';
import type { LogLevel } from '../core/machine.ts';
import type { Ports } from '../core/runtime/ports.ts';
import { RealClock } from './clock.ts';
import { RealCrypto } from './crypto.ts';
import { RealDisk } from './disk.ts';
import { explainErrno } from './errors.ts';
import { RealLog } from './log.ts';
import { RealNetwork, type RealNetworkOptions } from './net.ts';
import { RealProbes } from './probes.ts';
import { RealTimers } from './timers.ts';

export interface RealPortsOptions {
  /** The host's ip; every socket binds to it (e.g. 127.0.0.2). */
  ip: string;
  /** Minimum level written to the log stream. Default INFO. */
  logLevel?: LogLevel;
  /** Default process.stdout. */
  logStream?: Writable;
  /** Log timestamps in local time (default) or UTC. */
  logTimeZone?: 'local' | 'utc';
  /** When set, disk paths must lie inside it (the agent's -data-dir). */
  dataDir?: string;
  /** Stream/queue tuning; `log` defaults to the composed log at source 'net'. */
  net?: RealNetworkOptions;
  /** Extra wait before each fsync (a slow disk, for tests). Default: the environment's
   *  MUSTER_DISK_SYNC_DELAY_MS, else 0. */
  diskSyncDelayMs?: number;
}

export interface RealPorts extends Ports {
  clock: RealClock;
  timers: RealTimers;
  net: RealNetwork;
  disk: RealDisk;
  probes: RealProbes;
  log: RealLog;
  crypto: RealCrypto;
  /** Wait until every port bound so far is listening; rejects with a one-line BindError. */
  ready(): Promise<void>;
  /** Cancel all timers and close all sockets, waiting until listeners are released. */
  close(): Promise<void>;
}

export async function createRealPorts(options: RealPortsOptions): Promise<RealPorts> {
  await checkLocalIp(options.ip);
  const clock = new RealClock();
  const timers = new RealTimers(clock);
  const log = new RealLog({ stream: options.logStream, level: options.logLevel, timeZone: options.logTimeZone });
  const net = new RealNetwork(options.ip, {
    ...options.net,
    log: options.net?.log ?? ((level, text) => log.line(level, 'net', text, clock.nowMs())),
  });
  const syncDelayMs = options.diskSyncDelayMs ?? diskSyncDelayFromEnv();
  const disk = new RealDisk({ ...(options.dataDir !== undefined ? { root: options.dataDir } : {}), syncDelayMs });
  const probes = new RealProbes();
  return {
    clock,
    timers,
    net,
    disk,
    probes,
    log,
    crypto: new RealCrypto(),
    ready: () => net.ready(),
    close: async () => {
      timers.cancelAll();
      await Promise.all([net.close(), disk.close()]);
    },
  };
}

function diskSyncDelayFromEnv(): number {
  const raw = process.env.MUSTER_DISK_SYNC_DELAY_MS;
  if (raw === undefined || raw === '') return 0;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`MUSTER_DISK_SYNC_DELAY_MS must be a number of milliseconds ≥ 0, got '${raw}'`);
  return ms;
}

/** Bind an ephemeral UDP socket on ip to learn early (and clearly) whether ip is ours. */
async function checkLocalIp(ip: string): Promise<void> {
  if (!isIPv4(ip)) throw new Error(`bind address '${ip}' is not an IPv4 address (e.g. 127.0.0.2 or 10.0.0.5)`);
  await new Promise<void>((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', (err) => {
      try {
        sock.close();
      } catch {
        // never bound, nothing to release
      }
      reject(new Error(`cannot use bind address ${ip}: ${explainErrno(err)}`));
    });
    sock.bind({ port: 0, address: ip }, () => sock.close(() => resolve()));
  });
}
