// test/transports/disk-submit.test.ts — RealDisk.submit: writes off the event loop, in order,
// with group commit, against a real temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiskWrite } from '../../core/runtime/ports.ts';
import { RealDisk } from '../../transports/disk.ts';

let root: string;
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'muster-disk-submit-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Submit every write now; resolves with the completion order (and errors) once all are done. */
function submitAll(disk: RealDisk, writes: DiskWrite[]): Promise<string[]> {
  const order: string[] = [];
  return new Promise((resolve) => {
    writes.forEach((w, i) =>
      disk.submit(w, (err) => {
        order.push(err ? `${i}: ${err.message}` : `${i}`);
        if (order.length === writes.length) resolve(order);
      }),
    );
  });
}

describe('RealDisk.submit', () => {
  it('never completes inside submit, and completes in submission order', async () => {
    const disk = new RealDisk({ root });
    let done = false;
    disk.submit({ op: 'append', path: path.join(root, 'log'), data: bytes('a'), sync: true }, () => (done = true));
    expect(done).toBe(false);
    const order = await submitAll(disk, [
      { op: 'append', path: path.join(root, 'log'), data: bytes('b'), sync: true },
      { op: 'replace', path: path.join(root, 'raft', 'state'), data: bytes('s1'), sync: true },
      { op: 'append', path: path.join(root, 'log'), data: bytes('c'), sync: false },
      { op: 'remove', path: path.join(root, 'gone') },
    ]);
    expect(done).toBe(true);
    expect(order).toEqual(['0', '1', '2', '3']);
    expect(fs.readFileSync(path.join(root, 'log'), 'utf8')).toBe('abc');
    expect(fs.readFileSync(path.join(root, 'raft', 'state'), 'utf8')).toBe('s1');
    await disk.close();
  });

  it('group commit: writes submitted while a sync is in flight share the next fdatasync', async () => {
    const disk = new RealDisk({ root, syncDelayMs: 30 });
    const log = path.join(root, 'log');
    const first = submitAll(disk, [{ op: 'append', path: log, data: bytes('1'), sync: true }]);
    // Let the writer start on the first one, then submit ten more while it is syncing.
    await new Promise((r) => setTimeout(r, 10));
    const rest = submitAll(
      disk,
      Array.from({ length: 10 }, (_, i) => ({ op: 'append' as const, path: log, data: bytes(String.fromCharCode(97 + i)), sync: true })),
    );
    await Promise.all([first, rest]);
    expect(fs.readFileSync(log, 'utf8')).toBe('1abcdefghij');
    expect(disk.counts).toEqual({ submitted: 11, groups: 2, syncs: 2 });
    await disk.close();
  });

  it('an append after a replace of the same file goes to the new file (no stale descriptor)', async () => {
    const disk = new RealDisk({ root });
    const log = path.join(root, 'raft', 'log.bin');
    await submitAll(disk, [{ op: 'append', path: log, data: bytes('old-entries;'), sync: true }]);
    await submitAll(disk, [
      { op: 'replace', path: log, data: bytes('compacted;'), sync: true },
      { op: 'append', path: log, data: bytes('next;'), sync: true },
    ]);
    expect(fs.readFileSync(log, 'utf8')).toBe('compacted;next;');
    await submitAll(disk, [
      { op: 'remove', path: log },
      { op: 'append', path: log, data: bytes('fresh'), sync: true },
    ]);
    expect(fs.readFileSync(log, 'utf8')).toBe('fresh');
    expect(fs.readdirSync(path.join(root, 'raft'))).toEqual(['log.bin']);
    await disk.close();
  });

  it('after a failed write, every later one fails too and is not carried out (a prefix survives)', async () => {
    const disk = new RealDisk({ root });
    fs.writeFileSync(path.join(root, 'blocker'), 'a file where a directory should be');
    const order = await submitAll(disk, [
      { op: 'append', path: path.join(root, 'ok'), data: bytes('1'), sync: true },
      { op: 'append', path: path.join(root, 'blocker', 'log'), data: bytes('2'), sync: true },
      { op: 'append', path: path.join(root, 'ok'), data: bytes('3'), sync: true },
    ]);
    expect(order[0]).toBe('0');
    expect(order[1]).toMatch(/^1: cannot create directory .*blocker/);
    expect(order[2]).toMatch(/^2: not written, as an earlier write failed \(cannot create directory/);
    expect(fs.readFileSync(path.join(root, 'ok'), 'utf8')).toBe('1');
    await disk.close();
  });

  it('refuses a path outside its root at submit, like the synchronous methods', () => {
    const disk = new RealDisk({ root });
    expect(() => disk.submit({ op: 'append', path: '/etc/passwd', data: bytes('x'), sync: true }, () => {})).toThrow(/outside the data dir/);
  });
});
