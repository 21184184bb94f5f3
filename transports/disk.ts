// transports/disk.ts — the real disk: whole-file reads, atomic replaces, fsync'd appends.
//
// Owns: carrying out persist/removeFile effects on the local file system, synchronously,
// with the durability the effect asks for (fsync of the file and, for a replace, of the
// directory that holds the new name).
// Must never: leave a half-written file under the real name, touch a path outside its root,
// or fail with a bare errno — every error names the path, the operation and a fix.
import fs from 'node:fs';
import path from 'node:path';
import type { DiskPort } from '../core/runtime/ports.ts';
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
}

export class RealDisk implements DiskPort {
  private readonly root: string | null;
  private tempCounter = 0;

  constructor(options: RealDiskOptions = {}) {
    if (options.root !== undefined && !path.isAbsolute(options.root)) {
      throw new Error(`disk root '${options.root}' must be an absolute path (e.g. /tmp/consul)`);
    }
    this.root = options.root === undefined ? null : path.resolve(options.root);
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
    const dir = path.dirname(p);
    this.ensureDir(dir);
    // A unique temp name in the same directory: rename is only atomic within one file system.
    const temp = `${p}.tmp-${process.pid}-${++this.tempCounter}`;
    let fd: number | null = null;
    try {
      fd = fs.openSync(temp, 'w', 0o644);
      writeAll(fd, data);
      if (sync) fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = null;
      fs.renameSync(temp, p);
    } catch (err) {
      if (fd !== null) closeQuietly(fd);
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // the original error is the one worth reporting
      }
      throw new DiskError('write', p, errnoCode(err), err);
    }
    // The rename is durable only once the directory entry is on disk.
    if (sync) this.syncDir(dir);
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
      // Some file systems refuse fsync on a directory; the data itself is already synced.
      const code = errnoCode(err);
      if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw new DiskError('sync directory', dir, code, err);
    } finally {
      if (fd !== null) closeQuietly(fd);
    }
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing useful to do; the caller reports the first error
  }
}
