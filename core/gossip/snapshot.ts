// core/gossip/snapshot.ts — serf's membership snapshot (serf/local.snapshot, serf/remote.snapshot).
//
// Owns: the line format (`alive: name ip:port`, `not-alive: name`, `clock: N`,
// `event-clock: N`, `query-clock: N`, `leave`, `#` comments) and the replay rule that decides
// whom a restarted node rejoins.
// Must never: touch a disk; the Serf machine appends lines through `persist` effects.

export interface PreviousNode {
  name: string;
  /** 'ip:port' */
  addr: string;
}

export interface SnapshotReplay {
  /** Previously known alive nodes, in first-seen order. */
  previous: PreviousNode[];
  lastClock: number;
  lastEventClock: number;
  lastQueryClock: number;
  /** The snapshot ended in a graceful leave that was honoured (no rejoin). */
  leftGracefully: boolean;
  /** A leave marker was ignored because rejoin is set. */
  ignoredLeave: boolean;
  /** Lines we could not parse, with their 1-based line numbers. */
  warnings: string[];
}

/** Replay a snapshot. A `leave` line forgets everyone and the clocks unless `rejoinAfterLeave`. */
export function replaySnapshot(text: string, rejoinAfterLeave: boolean): SnapshotReplay {
  const alive = new Map<string, string>();
  const r: SnapshotReplay = { previous: [], lastClock: 0, lastEventClock: 0, lastQueryClock: 0, leftGracefully: false, ignoredLeave: false, warnings: [] };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('alive: ')) {
      const rest = line.slice('alive: '.length);
      const sp = rest.lastIndexOf(' ');
      if (sp <= 0) {
        r.warnings.push(`line ${i + 1}: alive entry without an address: '${line}'`);
        continue;
      }
      const name = rest.slice(0, sp);
      const addr = rest.slice(sp + 1);
      if (!/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(addr)) {
        // A torn last line after a crash ends mid-address; never dial a half address.
        r.warnings.push(`line ${i + 1}: alive entry with a bad address: '${line}'`);
        continue;
      }
      alive.delete(name);
      alive.set(name, addr);
      r.leftGracefully = false;
    } else if (line.startsWith('not-alive: ')) {
      alive.delete(line.slice('not-alive: '.length));
    } else if (line.startsWith('clock: ') || line.startsWith('event-clock: ') || line.startsWith('query-clock: ')) {
      const [key, val] = line.split(': ') as [string, string];
      const n = Number(val);
      if (!Number.isInteger(n) || n < 0) {
        r.warnings.push(`line ${i + 1}: bad ${key} value '${val}'`);
        continue;
      }
      if (key === 'clock') r.lastClock = n;
      else if (key === 'event-clock') r.lastEventClock = n;
      else r.lastQueryClock = n;
    } else if (line === 'leave') {
      if (rejoinAfterLeave) {
        r.ignoredLeave = true;
        continue;
      }
      alive.clear();
      r.lastClock = 0;
      r.lastEventClock = 0;
      r.lastQueryClock = 0;
      r.leftGracefully = true;
    } else {
      r.warnings.push(`line ${i + 1}: unrecognized snapshot line '${line}'`);
    }
  }
  for (const [name, addr] of alive) r.previous.push({ name, addr });
  return r;
}

export const snapshotLine = {
  alive: (name: string, addr: string): string => `alive: ${name} ${addr}\n`,
  notAlive: (name: string): string => `not-alive: ${name}\n`,
  clock: (n: number): string => `clock: ${n}\n`,
  eventClock: (n: number): string => `event-clock: ${n}\n`,
  queryClock: (n: number): string => `query-clock: ${n}\n`,
  leave: (): string => 'leave\n',
};
