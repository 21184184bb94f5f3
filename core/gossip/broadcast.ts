// core/gossip/broadcast.ts — memberlist's TransmitLimitedQueue: piggybacked dissemination.
//
// Owns: queued broadcasts, their transmit counts, invalidation of an older broadcast by a newer
// one about the same subject, and picking which ones fit into a datagram's spare bytes.
// Must never: decide *what* to broadcast, or let a broadcast go out more than
// retransmitLimit(mult, n) times.
//
// Selection order is memberlist's: fewest transmits first, newest first within a count, so a
// fresh rumour overtakes old ones and every rumour gets its λ·log n chances.
import { encodedSizeBound, type BroadcastMsg } from './messages.ts';
import { retransmitLimit } from './math.ts';

interface Item {
  key: string;
  msg: BroadcastMsg;
  size: number;
  transmits: number;
  id: number;
  live: boolean;
}

export class TransmitLimitedQueue {
  /** buckets[t] = items sent t times, in insertion order (oldest first). */
  private buckets: Item[][] = [];
  /** stale[t] = entries in buckets[t] that left it (sent again or invalidated). */
  private stale: number[] = [];
  private readonly byKey = new Map<string, Item>();
  private nextId = 0;
  private count = 0;

  constructor(readonly retransmitMult: number) {}

  /** Queue `msg`; an older queued broadcast with the same key is dropped (memberlist's Invalidates). */
  queue(key: string, msg: BroadcastMsg): void {
    const old = this.byKey.get(key);
    if (old) {
      old.live = false;
      this.count--;
      this.stale[old.transmits] = (this.stale[old.transmits] ?? 0) + 1;
    }
    const item: Item = { key, msg, size: encodedSizeBound(msg), transmits: 0, id: this.nextId++, live: true };
    this.byKey.set(key, item);
    (this.buckets[0] ??= []).push(item);
    this.count++;
  }

  get length(): number {
    return this.count;
  }

  /** Broadcasts fitting in `limitBytes` when each costs its size plus `overheadBytes`.
   *  Counts a transmit on each; retires those that reached the limit for cluster size `n`. */
  getBroadcasts(overheadBytes: number, limitBytes: number, n: number): BroadcastMsg[] {
    if (this.count === 0) return [];
    const limit = retransmitLimit(this.retransmitMult, n);
    const picked: Item[] = [];
    let used = 0;
    const minSize = 12 + overheadBytes;
    outer: for (let t = 0; t < this.buckets.length; t++) {
      const b = this.buckets[t];
      if (!b || b.length === 0) continue;
      for (let i = b.length - 1; i >= 0; i--) {
        const it = b[i]!;
        if (!it.live || it.transmits !== t) continue;
        if (used + it.size + overheadBytes > limitBytes) continue;
        used += it.size + overheadBytes;
        picked.push(it);
        if (limitBytes - used < minSize) break outer;
      }
    }
    for (const it of picked) {
      this.stale[it.transmits] = (this.stale[it.transmits] ?? 0) + 1;
      it.transmits++;
      if (it.transmits >= limit) {
        it.live = false;
        this.count--;
        if (this.byKey.get(it.key) === it) this.byKey.delete(it.key);
      } else {
        (this.buckets[it.transmits] ??= []).push(it);
      }
    }
    this.compact();
    return picked.map((it) => it.msg);
  }

  /** serf checkQueueDepth: keep at most `max` broadcasts, dropping the oldest first. Returns how many went. */
  prune(max: number): number {
    if (this.count <= max) return 0;
    const live: Item[] = [];
    this.buckets.forEach((b, t) => {
      for (const it of b ?? []) if (it.live && it.transmits === t) live.push(it);
    });
    live.sort((x, y) => x.id - y.id);
    let dropped = 0;
    for (const it of live) {
      if (this.count <= max) break;
      it.live = false;
      this.count--;
      this.byKey.delete(it.key);
      this.stale[it.transmits] = (this.stale[it.transmits] ?? 0) + 1;
      dropped++;
    }
    this.compact();
    return dropped;
  }

  /** Drop everything (e.g. after a leave completes). */
  reset(): void {
    this.buckets = [];
    this.stale = [];
    this.byKey.clear();
    this.count = 0;
  }

  /** Transmit count of the live broadcast under `key` (tests). */
  transmitsOf(key: string): number | undefined {
    const it = this.byKey.get(key);
    return it?.live ? it.transmits : undefined;
  }

  private compact(): void {
    for (let t = 0; t < this.buckets.length; t++) {
      const b = this.buckets[t];
      const stale = this.stale[t] ?? 0;
      if (!b || stale <= 16 || stale * 2 <= b.length) continue;
      this.buckets[t] = b.filter((it) => it.live && it.transmits === t);
      this.stale[t] = 0;
    }
  }
}
