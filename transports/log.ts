// transports/log.ts — the real log sink: Consul-format lines on a writable stream.
//
// Owns: the level filter and writing `    2015/07/03 09:18:25 [INFO] raft: text` lines
// (local time of this machine, as a real Consul agent prints) to stdout or a given stream.
// Must never: throw into the host loop (a closed stdout is not a reason to crash), or
// reorder lines.
//
// The line text comes from core/runtime/log-format.ts (shared with the simulator, which
// prints UTC virtual time). Real mode prints LOCAL time by default, like a real agent, by
// shifting the epoch by this machine's UTC offset at that instant; `timeZone: 'utc'` opts out.
import type { Writable } from 'node:stream';
import type { LogLevel } from '../core/machine.ts';
import { formatLogLine } from '../core/runtime/log-format.ts';
import type { LogPort } from '../core/runtime/ports.ts';

const LEVEL_RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERR: 4 };

export function isLogLevel(s: string): s is LogLevel {
  return Object.prototype.hasOwnProperty.call(LEVEL_RANK, s);
}

/** Parse a -log-level value ('info', 'WARN', 'err', 'error', 'warning'); throws a clear error. */
export function parseLogLevel(s: string): LogLevel {
  const up = s.trim().toUpperCase();
  const alias: Record<string, LogLevel> = { ERROR: 'ERR', WARNING: 'WARN' };
  const level = alias[up] ?? up;
  if (isLogLevel(level)) return level;
  throw new Error(`log level '${s}' is not one of trace, debug, info, warn, err`);
}

/** `    YYYY/MM/DD HH:MM:SS [LEVEL] source: text` in this machine's local time. */
export function formatLocalLogLine(level: LogLevel, source: string, text: string, epochMs: number): string {
  const offsetMs = new Date(epochMs).getTimezoneOffset() * 60_000;
  return formatLogLine(level, source, text, epochMs - offsetMs);
}

export interface RealLogOptions {
  /** Default process.stdout. */
  stream?: Writable;
  /** Lines below this level are dropped. Default INFO. */
  level?: LogLevel;
  /** Timestamps in local time (default, as a real agent prints) or UTC. */
  timeZone?: 'local' | 'utc';
}

export class RealLog implements LogPort {
  private readonly stream: Writable;
  private minRank: number;
  private broken = false;
  private readonly format: typeof formatLogLine;

  constructor(options: RealLogOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    this.minRank = LEVEL_RANK[options.level ?? 'INFO'];
    this.format = options.timeZone === 'utc' ? formatLogLine : formatLocalLogLine;
    // Without a listener an EPIPE on stdout would be an uncaught exception.
    this.stream.on('error', () => {
      this.broken = true;
    });
  }

  setLevel(level: LogLevel): void {
    this.minRank = LEVEL_RANK[level];
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= this.minRank;
  }

  line(level: LogLevel, source: string, text: string, nowMs: number): void {
    if (this.broken || !this.enabled(level)) return;
    try {
      this.stream.write(this.format(level, source, text, nowMs) + '\n');
    } catch {
      this.broken = true;
    }
  }
}
