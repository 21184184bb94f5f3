// sim/faults.ts — fault schedules as plain data: validation and application.
//
// Owns: checking a FaultSchedule (clear errors naming the entry and field) and scheduling
// each fault as a world event at its atMs.
// Must never: hold state of its own; a schedule is JSON that fast-check can generate and shrink.
import { DEFAULT_LINK, mergeLink } from './links.ts';
import type { Fault, FaultSchedule, LinkConfig } from './types.ts';

/** What applying faults needs from the world. */
export interface FaultTarget {
  schedule(atMs: number, label: string, fn: () => void): number;
  hasHost(ip: string): boolean;
  partition(groups: string[][]): void;
  partitionOneWay(from: string[], to: string[]): void;
  isolate(ip: string): void;
  heal(): void;
  setLink(from: string, to: string, cfg: Partial<LinkConfig>): void;
  crash(ip: string): void;
  restart(ip: string): void;
  stall(ip: string, durationMs: number): void;
}

const KINDS = ['partition', 'partitionOneWay', 'isolate', 'heal', 'link', 'crash', 'restart', 'stall'];

export function validateFaults(schedule: unknown, target: Pick<FaultTarget, 'hasHost'>): FaultSchedule {
  if (!Array.isArray(schedule)) throw new Error(`fault schedule must be an array of faults, got ${JSON.stringify(schedule)}`);
  schedule.forEach((f: unknown, i: number) => {
    const where = `fault #${i} (${JSON.stringify(f)})`;
    if (f === null || typeof f !== 'object') throw new Error(`${where}: must be an object`);
    const o = f as Record<string, unknown>;
    if (typeof o.atMs !== 'number' || !(o.atMs >= 0) || !Number.isFinite(o.atMs)) throw new Error(`${where}: atMs must be a finite number ≥ 0`);
    if (typeof o.kind !== 'string' || !KINDS.includes(o.kind)) throw new Error(`${where}: kind must be one of ${KINDS.join(', ')}`);
    const ip = (field: string, v: unknown): void => {
      if (typeof v !== 'string' || !target.hasHost(v)) throw new Error(`${where}: ${field} '${String(v)}' is not a host of this world`);
    };
    const ips = (field: string, v: unknown): void => {
      if (!Array.isArray(v)) throw new Error(`${where}: ${field} must be an array of host ips`);
      for (const x of v) ip(field, x);
    };
    switch (o.kind) {
      case 'partition':
        if (!Array.isArray(o.groups)) throw new Error(`${where}: groups must be an array of arrays of host ips`);
        for (const g of o.groups) ips('groups', g);
        break;
      case 'partitionOneWay':
        ips('from', o.from);
        ips('to', o.to);
        break;
      case 'isolate':
      case 'crash':
      case 'restart':
        ip('ip', o.ip);
        break;
      case 'stall':
        ip('ip', o.ip);
        if (typeof o.durationMs !== 'number' || !(o.durationMs >= 0) || !Number.isFinite(o.durationMs)) {
          throw new Error(`${where}: durationMs must be a finite number ≥ 0`);
        }
        break;
      case 'link':
        ip('from', o.from);
        ip('to', o.to);
        if (o.cfg === null || typeof o.cfg !== 'object') throw new Error(`${where}: cfg must be a link config object`);
        mergeLink(DEFAULT_LINK, o.cfg as Partial<LinkConfig>, `${where}: cfg`);
        break;
      case 'heal':
        break;
    }
  });
  return schedule as FaultSchedule;
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'partition':
      return `fault partition ${f.groups.map((g) => `[${g.join(',')}]`).join(' ')}`;
    case 'partitionOneWay':
      return `fault partitionOneWay [${f.from.join(',')}] -/-> [${f.to.join(',')}]`;
    case 'isolate':
      return `fault isolate ${f.ip}`;
    case 'heal':
      return 'fault heal';
    case 'link':
      return `fault link ${f.from}>${f.to} ${JSON.stringify(f.cfg)}`;
    case 'crash':
      return `fault crash ${f.ip}`;
    case 'restart':
      return `fault restart ${f.ip}`;
    case 'stall':
      return `fault stall ${f.ip} ${f.durationMs}ms`;
  }
}

export function applyFaults(schedule: FaultSchedule, target: FaultTarget): void {
  validateFaults(schedule, target);
  for (const f of schedule) {
    target.schedule(f.atMs, describeFault(f), () => runFault(f, target));
  }
}

function runFault(f: Fault, t: FaultTarget): void {
  switch (f.kind) {
    case 'partition':
      return t.partition(f.groups);
    case 'partitionOneWay':
      return t.partitionOneWay(f.from, f.to);
    case 'isolate':
      return t.isolate(f.ip);
    case 'heal':
      return t.heal();
    case 'link':
      return t.setLink(f.from, f.to, f.cfg);
    case 'crash':
      return t.crash(f.ip);
    case 'restart':
      return t.restart(f.ip);
    case 'stall':
      return t.stall(f.ip, f.durationMs);
  }
}
