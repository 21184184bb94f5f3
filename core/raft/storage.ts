// core/raft/storage.ts — byte layouts of Raft's files under `raft/`, and reading them back after a crash.
//
// Owns:
//   raft/state.bin              term + vote: crc32 (u32 BE) then UTF-8 JSON; replaced atomically, synced.
//   raft/log.bin                append-only records: len (u32 BE) | crc32(payload) (u32 BE) | payload.
//                                 payload kind 1 = entry (index f64, term f64, type u8, data…)
//                                 payload kind 2 = truncate (index f64): entries ≥ index are void.
//                               A conflict on a follower appends a truncate record (cheap, stays
//                               append-only); compaction after a snapshot rewrites the file atomically
//                               with only the retained entries.
//   raft/snapshots/<index>-<term>.snap  crc32 | header len (u32) | header JSON {index, term, peers} | data.
// Recovery keeps the longest valid prefix of log.bin: a record whose length runs past the end
// of the file, or whose checksum is wrong, is a torn tail; it and everything after it are dropped
// and the node rewrites the file to that prefix before appending again.
// Must never: do I/O; it builds bytes for `persist` effects and parses bytes it is handed.
import { crc32 } from '../codec/crc32.ts';
import type { Entry, EntryType } from './types.ts';
import { RaftRecoveryError } from './peers.ts';

export const STATE_PATH = 'raft/state.bin';
export const LOG_PATH = 'raft/log.bin';
export const SNAPSHOT_DIR = 'raft/snapshots';

const enc = new TextEncoder();
const dec = new TextDecoder();

// ------------------------------------------------------------------ term + vote

export function encodeHardState(term: number, vote: string | null): Uint8Array {
  const body = enc.encode(JSON.stringify({ term, vote }));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, crc32(body));
  out.set(body, 4);
  return out;
}

export function decodeHardState(bytes: Uint8Array): { term: number; vote: string | null } {
  if (bytes.length < 4) throw new RaftRecoveryError(STATE_PATH, `is ${bytes.length} bytes, too short to hold a checksum; the file is damaged — restore it from a backup or remove the data dir`);
  const want = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const body = bytes.subarray(4);
  if (crc32(body) !== want) throw new RaftRecoveryError(STATE_PATH, 'checksum mismatch; the file is damaged (it is only ever replaced atomically)');
  const v = JSON.parse(dec.decode(body)) as { term?: unknown; vote?: unknown };
  if (typeof v.term !== 'number' || !(v.vote === null || typeof v.vote === 'string')) {
    throw new RaftRecoveryError(STATE_PATH, 'does not hold {term, vote}');
  }
  return { term: v.term, vote: v.vote };
}

// ------------------------------------------------------------------ log records

const TYPE_CODE: Record<EntryType, number> = { cmd: 0, noop: 1, peers: 2 };
const CODE_TYPE: EntryType[] = ['cmd', 'noop', 'peers'];

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.length);
  dv.setUint32(4, crc32(payload));
  out.set(payload, 8);
  return out;
}

/** Each entry's record, kept while the entry lives: entries are never changed once made, and
 *  compaction rewrites the retained log from these instead of encoding 10k entries again. */
const records = new WeakMap<Entry, Uint8Array>();

export function encodeEntryRecord(e: Entry): Uint8Array {
  const cached = records.get(e);
  if (cached !== undefined) return cached;
  // Header and payload in one buffer: len | crc32(payload) | 1 | index | term | type | data.
  const out = new Uint8Array(8 + 18 + e.data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 18 + e.data.length);
  out[8] = 1;
  dv.setFloat64(9, e.index);
  dv.setFloat64(17, e.term);
  out[25] = TYPE_CODE[e.type];
  out.set(e.data, 26);
  dv.setUint32(4, crc32(out.subarray(8)));
  records.set(e, out);
  return out;
}

export function encodeEntryRecords(entries: readonly Entry[]): Uint8Array {
  return concat(entries.map(encodeEntryRecord));
}

export function encodeTruncateRecord(fromIndex: number): Uint8Array {
  const p = new Uint8Array(9);
  p[0] = 2;
  new DataView(p.buffer).setFloat64(1, fromIndex);
  return frame(p);
}

export interface LogReplay {
  /** Entries in index order, contiguous (from wherever the file starts), all > afterIndex. */
  entries: Entry[];
  /** Byte length of the valid prefix; < file length when a torn or corrupt tail was cut. */
  validBytes: number;
  /** Why the tail was cut, if it was. */
  tornReason: string | null;
}

/** Replay log.bin; entries at or below `afterIndex` (covered by the snapshot) are dropped. */
export function replayLog(bytes: Uint8Array, afterIndex: number): LogReplay {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: Entry[] = [];
  let off = 0;
  let tornReason: string | null = null;
  while (off < bytes.length) {
    if (off + 8 > bytes.length) {
      tornReason = `record header at byte ${off} is cut short`;
      break;
    }
    const len = dv.getUint32(off);
    const want = dv.getUint32(off + 4);
    if (off + 8 + len > bytes.length) {
      tornReason = `record at byte ${off} claims ${len} bytes but the file ends first`;
      break;
    }
    const p = bytes.subarray(off + 8, off + 8 + len);
    if (crc32(p) !== want) {
      tornReason = `record at byte ${off} fails its checksum`;
      break;
    }
    const pv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    if (p[0] === 1 && len >= 18) {
      const e: Entry = {
        index: pv.getFloat64(1),
        term: pv.getFloat64(9),
        type: CODE_TYPE[p[17]!] ?? 'cmd',
        data: p.slice(18),
      };
      // A record that does not extend the log overwrites from its index (implicit truncate).
      cutFrom(entries, e.index);
      entries.push(e);
    } else if (p[0] === 2 && len >= 9) {
      cutFrom(entries, pv.getFloat64(1));
    } else {
      tornReason = `record at byte ${off} has unknown kind ${p[0]}`;
      break;
    }
    off += 8 + len;
  }
  // Keep only the contiguous run above the snapshot.
  const kept: Entry[] = [];
  for (const e of entries) {
    if (e.index <= afterIndex) continue;
    // After a compaction the file starts wherever the retained entries start.
    if (kept.length > 0 && e.index !== kept[kept.length - 1]!.index + 1) break;
    kept.push(e);
  }
  return { entries: kept, validBytes: off, tornReason };
}

/** Drop entries with index ≥ from (entries are in increasing index order). */
function cutFrom(entries: Entry[], from: number): void {
  let n = entries.length;
  while (n > 0 && entries[n - 1]!.index >= from) n--;
  entries.length = n;
}

// ------------------------------------------------------------------ snapshots

export interface SnapshotFile {
  index: number;
  term: number;
  peers: string[] | null;
  data: Uint8Array;
}

export function snapshotPath(index: number, term: number): string {
  return `${SNAPSHOT_DIR}/${String(index).padStart(12, '0')}-${term}.snap`;
}

export function encodeSnapshot(s: SnapshotFile): Uint8Array {
  const header = enc.encode(JSON.stringify({ index: s.index, term: s.term, peers: s.peers }));
  const body = new Uint8Array(4 + header.length + s.data.length);
  new DataView(body.buffer).setUint32(0, header.length);
  body.set(header, 4);
  body.set(s.data, 4 + header.length);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, crc32(body));
  out.set(body, 4);
  return out;
}

/** null when the bytes are damaged (the caller falls back to an older snapshot). */
export function decodeSnapshot(bytes: Uint8Array): SnapshotFile | null {
  if (bytes.length < 8) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.subarray(4);
  if (crc32(body) !== dv.getUint32(0)) return null;
  const hlen = dv.getUint32(4);
  if (8 + hlen > bytes.length) return null;
  try {
    const h = JSON.parse(dec.decode(bytes.subarray(8, 8 + hlen))) as { index: number; term: number; peers: string[] | null };
    return { index: h.index, term: h.term, peers: h.peers, data: bytes.slice(8 + hlen) };
  } catch {
    return null;
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
