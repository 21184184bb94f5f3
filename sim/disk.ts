// sim/disk.ts — a host's virtual disk with crash semantics.
//
// Owns: files as byte arrays, what is durable (synced) versus only written, and what a
// crash leaves behind.
// Must never: be touched by a crash in any way other than crash(rng); keep data a crash
// would lose.
//
// Crash model (what survives `crash(rng)`):
//   * synced content always survives; metadata operations (rename, remove, writeText) are
//     durable at once, as on a journaling file system;
//   * writeAtomic(…, sync=false): the file is either the old content or the new one; we
//     keep the old (the rename never reached the journal);
//   * unsynced appends are lost, except that with probability ½ a random strict prefix of
//     the unsynced tail survives — so the last record can be torn mid-way (and earlier
//     unsynced records may survive whole). Readers of append-only logs must detect this.
// Paths are '/'-separated; '//' collapses and a trailing '/' is ignored. Directories are
// implicit: list(dir) shows the names directly below dir.
import type { Rng } from '../core/rng.ts';
import type { DiskWrite } from '../core/runtime/ports.ts';

interface FileEntry {
  chunks: Uint8Array[];
  len: number;
  /** Length of the durable prefix, when the durable content is a prefix of the current. */
  durableLen: number;
  /** When set, the durable content is this (null = file absent) instead of a prefix. */
  durableOld: Uint8Array | null | undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function norm(path: string, op: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new Error(`disk.${op}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  let p = path.replace(/\/+/g, '/');
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

function flatten(f: FileEntry): Uint8Array {
  if (f.chunks.length === 1) return f.chunks[0]!;
  const out = new Uint8Array(f.len);
  let o = 0;
  for (const c of f.chunks) {
    out.set(c, o);
    o += c.length;
  }
  f.chunks = [out];
  return out;
}

export class SimDisk {
  private files = new Map<string, FileEntry>();
  /** Counters for tests and the TUI. */
  readonly counts = { writes: 0, appends: 0, fsyncs: 0, crashes: 0 };

  read(path: string): Uint8Array | null {
    const f = this.files.get(norm(path, 'read'));
    if (f === undefined) return null;
    return flatten(f).slice();
  }

  readText(path: string): string | null {
    const b = this.read(path);
    return b === null ? null : dec.decode(b);
  }

  /** A durable edit made from outside the simulated processes (an operator editing a file). */
  writeText(path: string, text: string): void {
    const data = enc.encode(text);
    this.files.set(norm(path, 'writeText'), { chunks: [data], len: data.length, durableLen: data.length, durableOld: undefined });
  }

  writeAtomic(path: string, data: Uint8Array, sync: boolean): void {
    const p = norm(path, 'writeAtomic');
    if (!(data instanceof Uint8Array)) throw new Error(`disk.writeAtomic(${p}): data must be a Uint8Array`);
    this.counts.writes++;
    const copy = data.slice();
    const old = this.files.get(p);
    if (sync) {
      this.files.set(p, { chunks: [copy], len: copy.length, durableLen: copy.length, durableOld: undefined });
      this.counts.fsyncs++;
      return;
    }
    const durable = old === undefined ? null : durableContent(old);
    this.files.set(p, { chunks: [copy], len: copy.length, durableLen: 0, durableOld: durable });
  }

  append(path: string, data: Uint8Array, sync: boolean): void {
    const p = norm(path, 'append');
    if (!(data instanceof Uint8Array)) throw new Error(`disk.append(${p}): data must be a Uint8Array`);
    this.counts.appends++;
    let f = this.files.get(p);
    if (f === undefined) {
      f = { chunks: [], len: 0, durableLen: 0, durableOld: undefined };
      this.files.set(p, f);
    }
    if (data.length > 0) {
      f.chunks.push(data.slice());
      f.len += data.length;
    }
    if (sync) this.syncEntry(f);
  }

  fsync(path: string): void {
    const f = this.files.get(norm(path, 'fsync'));
    if (f === undefined) throw new Error(`disk.fsync(${path}): no such file`);
    this.syncEntry(f);
  }

  private syncEntry(f: FileEntry): void {
    f.durableLen = f.len;
    f.durableOld = undefined;
    this.counts.fsyncs++;
  }

  /** Atomic and durable; replaces `to` if it exists. */
  rename(from: string, to: string): void {
    const a = norm(from, 'rename');
    const b = norm(to, 'rename');
    const f = this.files.get(a);
    if (f === undefined) throw new Error(`disk.rename(${from} → ${to}): no such file '${from}'`);
    if (a === b) return;
    this.files.delete(a);
    this.files.set(b, f);
  }

  /** Removing a missing file is not an error (idempotent, like `rm -f`). */
  remove(path: string): void {
    this.files.delete(norm(path, 'remove'));
  }

  list(dir: string): string[] {
    const d = norm(dir, 'list');
    const prefix = d === '/' ? '/' : `${d}/`;
    const names = new Set<string>();
    for (const p of this.files.keys()) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const i = rest.indexOf('/');
      names.add(i < 0 ? rest : rest.slice(0, i));
    }
    return [...names].sort();
  }

  exists(path: string): boolean {
    const p = norm(path, 'exists');
    if (this.files.has(p)) return true;
    return this.list(p).length > 0;
  }

  /** The host's write path (DiskPort.submit). This disk has no latency: the write is done,
   *  and `done` called, before submit returns, so the host holds nothing and a run's effect
   *  order is the one the synchronous methods give. */
  submit(w: DiskWrite, done: (err: Error | null) => void): void {
    if (w.op === 'append') this.append(w.path, w.data, w.sync);
    else if (w.op === 'replace') this.writeAtomic(w.path, w.data, w.sync);
    else this.remove(w.path);
    done(null);
  }

  /** Every file path, sorted (for tests and inspection). */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  crash(rng: Rng): void {
    this.counts.crashes++;
    const next = new Map<string, FileEntry>();
    for (const p of this.paths()) {
      const f = this.files.get(p)!;
      let survived: Uint8Array | null;
      if (f.durableOld !== undefined) {
        survived = f.durableOld;
      } else {
        const all = flatten(f);
        const tail = f.len - f.durableLen;
        let keep = 0;
        if (tail > 1 && rng.chance(0.5)) keep = rng.range(1, tail - 1);
        survived = all.slice(0, f.durableLen + keep);
      }
      if (survived !== null) next.set(p, { chunks: [survived], len: survived.length, durableLen: survived.length, durableOld: undefined });
    }
    this.files = next;
  }
}

function durableContent(f: FileEntry): Uint8Array | null {
  if (f.durableOld !== undefined) return f.durableOld;
  return flatten(f).slice(0, f.durableLen);
}
