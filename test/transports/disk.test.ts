// test/transports/disk.test.ts — RealDisk against a real temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealDisk } from '../../transports/disk.ts';

let root: string;
const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('utf8'));
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'muster-disk-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('RealDisk', () => {
  it('writes atomically into new parent dirs, replaces, and leaves no temp files', () => {
    const disk = new RealDisk({ root });
    const file = path.join(root, 'raft', 'peers.json');
    expect(disk.read(file)).toBeNull();
    expect(disk.exists(file)).toBe(false);
    disk.writeAtomic(file, bytes('["10.10.105.71:8300"]'), true);
    expect(text(disk.read(file))).toBe('["10.10.105.71:8300"]');
    disk.writeAtomic(file, bytes('null'), false);
    expect(text(disk.read(file))).toBe('null');
    expect(disk.list(path.join(root, 'raft'))).toEqual(['peers.json']);
    expect(disk.exists(file)).toBe(true);
  });

  it('fsyncs the file and its directory only when asked to', () => {
    const disk = new RealDisk({ root });
    const spy = vi.spyOn(fs, 'fsyncSync');
    disk.writeAtomic(path.join(root, 'a'), bytes('1'), false);
    disk.append(path.join(root, 'log'), bytes('x'), false);
    expect(spy).not.toHaveBeenCalled();
    disk.writeAtomic(path.join(root, 'a'), bytes('2'), true);
    expect(spy).toHaveBeenCalledTimes(2); // temp file, then the directory holding the new name
    disk.append(path.join(root, 'log'), bytes('y'), true);
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('keeps the old content when the rename fails, and removes the temp file', () => {
    const disk = new RealDisk({ root });
    const file = path.join(root, 'state');
    disk.writeAtomic(file, bytes('old'), true);
    vi.spyOn(fs, 'renameSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
    });
    expect(() => disk.writeAtomic(file, bytes('new'), true)).toThrow(/^cannot write .*state: input\/output error .*\(EIO\)$/);
    vi.restoreAllMocks();
    expect(text(disk.read(file))).toBe('old');
    expect(disk.list(root)).toEqual(['state']);
  });

  it('appends, creating the file and its parents, and removes', () => {
    const disk = new RealDisk({ root });
    const file = path.join(root, 'raft', 'log', 'segment-1');
    disk.append(file, bytes('one\n'), true);
    disk.append(file, bytes('two\n'), false);
    expect(text(disk.read(file))).toBe('one\ntwo\n');
    disk.remove(file);
    expect(disk.read(file)).toBeNull();
    expect(() => disk.remove(file)).not.toThrow();
    expect(disk.list(path.join(root, 'nope'))).toEqual([]);
  });

  it('lists names sorted', () => {
    const disk = new RealDisk({ root });
    for (const name of ['b', 'a', 'c']) disk.writeAtomic(path.join(root, 'd', name), bytes(name), false);
    expect(disk.list(path.join(root, 'd'))).toEqual(['a', 'b', 'c']);
  });

  it('explains bad paths and file-system errors with the path and errno', () => {
    const disk = new RealDisk({ root });
    expect(() => disk.read('raft/peers.json')).toThrow(/must be absolute/);
    expect(() => disk.read('/etc/hostname')).toThrow(/outside the data dir/);
    expect(() => new RealDisk({ root: 'relative' })).toThrow(/must be an absolute path/);
    const blocker = path.join(root, 'blocker');
    disk.writeAtomic(blocker, bytes('a file where a directory should be'), false);
    const under = path.join(blocker, 'raft', 'peers.json');
    expect(() => disk.writeAtomic(under, bytes('x'), true)).toThrow(
      new RegExp(`^cannot create directory ${blocker}/raft: a parent of the path is a file, not a directory \\(ENOTDIR\\)$`),
    );
    expect(() => disk.read(path.join(root))).toThrow(/cannot read .*: the path is a directory, not a file \(EISDIR\)/);
    expect(() => disk.list(blocker)).toThrow(/cannot list .*blocker: .*ENOTDIR/);
  });

  it('works without a root for any absolute path', () => {
    const disk = new RealDisk();
    const file = path.join(root, 'free', 'x');
    disk.writeAtomic(file, bytes('ok'), true);
    expect(text(disk.read(file))).toBe('ok');
  });
});
