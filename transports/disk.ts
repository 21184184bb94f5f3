// transports/disk.ts — the real disk: whole-file reads, atomic replaces, fsync'd appends.
//
// Owns: carrying out persist/removeFile effects on the local file system with the durability
// the effect asks for (fsync of the file and, for a replace, of the directory that holds the
// new name): synchronously (the plain methods, used at start-up), or through `submit` — the
// host's path — with every fsync off the event loop (libuv's thread pool; the writes into the
// page cache, renames and removes stay inline: microseconds). Submitted writes run one group
// at a time, in submission order; everything submitted while a group is being written and
// synced forms the next group, whose consecutive appends to one file become one write and one
// fdatasync (group commit). Append files stay open between groups.
// Must never: leave a half-written file under the real name, touch a path outside its root,
// reorder submitted writes (a crash leaves a prefix of them), or fail with a bare errno —
// every error names the path, the operation and a fix.
import fs from 'node:fs';
import path from 'node:path';
import type { DiskPort, DiskWrite } from '../core/runtime/ports.ts';
import { errnoCode, explainErrno } from './errors.ts';

export class DiskError extends Error {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`cannot ${op} ${path}: ${explainErrno(cause)}`);
    this.name = 'DiskError';
  }
}

export interface RealDiskOptions {
  /** When set, every path must lie inside this absolute directory (a guard against a bad data dir join). */
  root?: string;
  /** Extra wait before every fsync of a submitted group: a slow disk, for tests and experiments. */
  syncDelayMs?: number;
}

interface Submitted {
  w: DiskWrite;
  done: (err: Error | null) => void;
}

export class RealDisk implements DiskPort {
  private readonly root: string | null;
  private readonly syncDelayMs: number;
  private tempCounter = 0;
  /** Submitted writes not yet taken by the writer. */
  private readonly pending: Submitted[] = [];
  private writerBusy = false;
  private writerKicked = false;
  /** Set once a submitted write failed: later ones fail too, so the file keeps a prefix. */
  private failed: Error | null = null;
  private readonly appendFds = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  /** What the writer did, for tests and benchmarks. */
  readonly counts = { submitted: 0, groups: 0, syncs: 0 };

  constructor(options: RealDiskOptions = {}) {
    if (options.root !== undefined && !path.isAbsolute(options.root)) {
      throw new Error(`disk root '${options.root}' must be an absolute path (e.g. /tmp/consul)`);
    }
    this.root = options.root === undefined ? null : path.resolve(options.root);
    const delay = options.syncDelayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw new Error(`syncDelayMs must be a number ≥ 0, got ${String(options.syncDelayMs)}`);
    this.syncDelayMs = delay;
  }

  submit(w: DiskWrite, done: (err: Error | null) => void): void {
    const p = this.resolve(w.path);
    this.counts.submitted++;
    this.pending.push({ w: { ...w, path: p }, done });
    // Start on setImmediate, after this turn's I/O callbacks: everything the host submits for
    // the inputs of one turn lands in the same group.
    if (!this.writerBusy && !this.writerKicked) {
      this.writerKicked = true;
      setImmediate(() => {
        this.writerKicked = false;
        void this.runWriter();
      });
    }
  }

  /** Resolves once every submitted write is complete. */
  flush(): Promise<void> {
    if (!this.writerBusy && !this.writerKicked && this.pending.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Finish submitted writes, then close the append files kept open. */
  async close(): Promise<void> {
    await this.flush();
    for (const p of [...this.appendFds.keys()]) this.closeAppendFd(p);
  }

  private async runWriter(): Promise<void> {
    if (this.writerBusy) return;
    this.writerBusy = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0);
        this.counts.groups++;
        await this.writeGroup(group);
      }
    } finally {
      this.writerBusy = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async writeGroup(group: Submitted[]): Promise<void> {
    let i = 0;
    while (i < group.length) {
      const first = group[i]!;
      let j = i + 1;
      if (first.w.op === 'append') while (j < group.length && group[j]!.w.op === 'append' && group[j]!.w.path === first.w.path) j++;
      const run = group.slice(i, j);
      i = j;
      if (this.failed === null) {
        try {
          await this.writeRun(run);
        } catch (err) {
          this.failed = err instanceof Error ? err : new Error(String(err));
          for (const s of run) s.done(this.failed);
          continue;
        }
        for (const s of run) s.done(null);
      } else {
        const why = new Error(`not written, as an earlier write failed (${this.failed.message})`);
        for (const s of run) s.done(why);
      }
    }
  }

  private async writeRun(run: Submitted[]): Promise<void> {
    const w = run[0]!.w;
    if (w.op === 'remove') {
      this.closeAppendFd(w.path);
      try {
        fs.rmSync(w.path, { force: true });
      } catch (err) {
        throw new DiskError('remove', w.path, errnoCode(err), err);
      }
      return;
    }
    if (w.op === 'replace') {
      this.closeAppendFd(w.path);
      await this.replaceAsync(w.path, w.data, w.sync);
      return;
    }
    let fd: number;
    try {
      fd = this.appendFd(w.path);
    } catch (err) {
      throw err instanceof DiskError ? err : new DiskError('append to', w.path, errnoCode(err), err);
    }
    const parts = run.map((s) => (s.w as { data: Uint8Array }).data);
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    try {
      // The write itself only copies into the page cache (microseconds): done here, it saves a
      // thread-pool round trip; only the fdatasync, which waits for the device, goes there.
      writeAll(fd, data);
      if (run.some((s) => (s.w as { sync: boolean }).sync)) await this.syncFd(fd);
    } catch (err) {
      this.closeAppendFd(w.path);
      throw new DiskError('append to', w.path, errnoCode(err), err);
    }
  }

  private async replaceAsync(p: string, data: Uint8Array, sync: boolean): Promise<void> {
    const { temp, fd } = this.writeTemp(p, data);
    if (sync) {
      try {
        await this.syncFd(fd);
      } catch (err) {
        this.dropTemp(p, temp, fd, err);
      }
    }
    this.renameTemp(p, temp, fd);
    if (!sync) return;
    const dir = path.dirname(p);
    let dfd: number | null = null;
    try {
      dfd = fs.openSync(dir, 'r');
      const d = dfd;
      await call<void>((cb) => fs.fsync(d, cb));
    } catch (err) {
      dirSyncFailed(dir, err);
    } finally {
      if (dfd !== null) closeQuietly(dfd);
    }
  }

  /** A new temp file beside `p` (rename is only atomic within one file system) holding data. */
  private writeTemp(p: string, data: Uint8Array): { temp: string; fd: number } {
    this.ensureDir(path.dirname(p));
    const temp = `${p}.tmp-${process.pid}-${++this.tempCounter}`;
    let fd: number | null = null;
    try {
      fd = fs.openSync(temp, 'w', 0o644);
      writeAll(fd, data);
      return { temp, fd };
    } catch (err) {
      return this.dropTemp(p, temp, fd, err);
    }
  }

  /** Close the temp file and move it over `p`: the old content until here, the new one after. */
  private renameTemp(p: string, temp: string, fd: number): void {
    try {
      fs.closeSync(fd);
    } catch (err) {
      this.dropTemp(p, temp, null, err);
    }
    try {
      fs.renameSync(temp, p);
    } catch (err) {
      this.dropTemp(p, temp, null, err);
    }
  }

  private dropTemp(p: string, temp: string, fd: number | null, err: unknown): never {
    if (fd !== null) closeQuietly(fd);
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // the original error is the one worth reporting
    }
    throw new DiskError('write', p, errnoCode(err), err);
  }

  private async syncFd(fd: number): Promise<void> {
    if (this.syncDelayMs > 0) await new Promise((r) => setTimeout(r, this.syncDelayMs));
    this.counts.syncs++;
    await call<void>((cb) => fs.fdatasync(fd, cb));
  }

  private appendFd(p: string): number {
    const open = this.appendFds.get(p);
    if (open !== undefined) return open;
    this.ensureDir(path.dirname(p));
    const fd = fs.openSync(p, 'a', 0o644);
    this.appendFds.set(p, fd);
    return fd;
  }

  /** A replace or remove of the path: the kept descriptor would write to the old file. */
  private closeAppendFd(p: string): void {
    const fd = this.appendFds.get(p);
    if (fd === undefined) return;
    this.appendFds.delete(p);
    closeQuietly(fd);
  }

  read(file: string): Uint8Array | null {
    const p = this.resolve(file);
    try {
      return fs.readFileSync(p);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      throw new DiskError('read', p, errnoCode(err), err);
    }
  }

  writeAtomic(file: string, data: Uint8Array, sync: boolean): void {
    const p = this.resolve(file);
    this.closeAppendFd(p);
    const { temp, fd } = this.writeTemp(p, data);
    if (sync) {
      try {
        fs.fsyncSync(fd);
      } catch (err) {
        this.dropTemp(p, temp, fd, err);
      }
    }
    this.renameTemp(p, temp, fd);
    // The rename is durable only once the directory entry is on disk.
    if (sync) this.syncDir(path.dirname(p));
  }

  append(file: string, data: Uint8Array, sync: boolean): void {
    const p = this.resolve(file);
    this.ensureDir(path.dirname(p));
    let fd: number | null = null;
    try {
      fd = fs.openSync(p, 'a', 0o644);
      writeAll(fd, data);
      if (sync) fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = null;
    } catch (err) {
      if (fd !== null) closeQuietly(fd);
      throw new DiskError('append to', p, errnoCode(err), err);
    }
  }

  remove(file: string): void {
    const p = this.resolve(file);
    this.closeAppendFd(p);
    try {
      fs.rmSync(p, { force: true });
    } catch (err) {
      throw new DiskError('remove', p, errnoCode(err), err);
    }
  }

  list(dir: string): string[] {
    const p = this.resolve(dir);
    try {
      return fs.readdirSync(p).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw new DiskError('list', p, errnoCode(err), err);
    }
  }

  exists(file: string): boolean {
    return fs.existsSync(this.resolve(file));
  }

  private resolve(file: string): string {
    if (typeof file !== 'string' || file.length === 0) throw new Error('disk path must be a non-empty string');
    if (!path.isAbsolute(file)) {
      throw new Error(`disk path '${file}' must be absolute (the host prefixes the data dir; is -data-dir set?)`);
    }
    const p = path.resolve(file);
    if (this.root !== null && p !== this.root && !p.startsWith(this.root + path.sep)) {
      throw new Error(`disk path '${file}' is outside the data dir ${this.root}`);
    }
    return p;
  }

  private ensureDir(dir: string): void {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new DiskError('create directory', dir, errnoCode(err), err);
    }
  }

  private syncDir(dir: string): void {
    let fd: number | null = null;
    try {
      fd = fs.openSync(dir, 'r');
      fs.fsyncSync(fd);
    } catch (err) {
      dirSyncFailed(dir, err);
    } finally {
      if (fd !== null) closeQuietly(fd);
    }
  }
}

/** Some file systems refuse fsync on a directory; the data itself is already synced then. */
function dirSyncFailed(dir: string, err: unknown): void {
  const code = errnoCode(err);
  if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw new DiskError('sync directory', dir, code, err);
}

function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

/** A Node callback API as a promise (cheaper than fs.promises' FileHandle for plain fds). */
function call<T>(start: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing useful to do; the caller reports the first error
  }
}
