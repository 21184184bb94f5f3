// core/catalog/archive.ts — the snapshot file `consul snapshot save` writes: a gzip'd tar
// holding meta.json and state.bin, laid out as Consul's is.
//
// Owns: writing that archive (gzip with stored deflate blocks: core has no zlib, and the
// catalog JSON inside is small) and reading it back with every check a damaged file can
// fail: gzip header, deflate block kind, CRC-32 and length, tar headers and checksums,
// meta.json's fields, state.bin's CRC-32 recorded in meta.json.
// Must never: return data from an archive that failed any check; errors say what is wrong.
//
// state.bin is Muster's catalog snapshot (snapshot.ts), not Consul's msgpack: an archive
// from a real Consul agent is refused with a message saying so.
import { crc32 } from '../codec/crc32.ts';

export interface SnapshotMeta {
  ID: string;
  Size: number;
  Index: number;
  Term: number;
  Version: number;
  /** CRC-32 of state.bin (Consul keeps SHA256SUMS; a CRC catches the same damage here). */
  CRC32: number;
  Format: 'muster-catalog';
}

const enc = new TextEncoder();

function tarEntry(name: string, data: Uint8Array): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, s: string) => h.set(enc.encode(s), off);
  put(0, name);
  put(100, '0000644\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, `${data.length.toString(8).padStart(11, '0')}\0`);
  put(136, '00000000000\0');
  put(148, '        ');
  h[156] = 0x30; // regular file
  put(257, 'ustar\0');
  put(263, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = new Uint8Array(512 + Math.ceil(data.length / 512) * 512);
  padded.set(h, 0);
  padded.set(data, 512);
  return padded;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u32le(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
}

function gzipStored(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])];
  const MAX = 0xffff;
  for (let at = 0; at === 0 || at < data.length; at += MAX) {
    const chunk = data.subarray(at, Math.min(at + MAX, data.length));
    const last = at + MAX >= data.length;
    const len = chunk.length;
    parts.push(new Uint8Array([last ? 1 : 0, len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff]), chunk);
  }
  parts.push(u32le(crc32(data)), u32le(data.length));
  return concat(parts);
}

export function writeArchive(state: Uint8Array, index: number, id: string): Uint8Array {
  const meta: SnapshotMeta = { ID: id, Size: state.length, Index: index, Term: 0, Version: 1, CRC32: crc32(state), Format: 'muster-catalog' };
  const tar = concat([tarEntry('meta.json', enc.encode(JSON.stringify(meta))), tarEntry('state.bin', state), new Uint8Array(1024)]);
  return gzipStored(tar);
}

export class ArchiveError extends Error {}

const fail = (msg: string): never => {
  throw new ArchiveError(`snapshot archive: ${msg}`);
};

function gunzipStored(b: Uint8Array): Uint8Array {
  if (b.length < 18 || b[0] !== 0x1f || b[1] !== 0x8b) fail('not a gzip file (bad magic); pass a file written by `consul snapshot save` against Muster');
  if (b[2] !== 8) fail('gzip compression method is not deflate');
  const flags = b[3]!;
  let at = 10;
  if (flags & 4) at += 2 + (b[at]! | (b[at + 1]! << 8));
  if (flags & 8) while (at < b.length && b[at++] !== 0);
  if (flags & 16) while (at < b.length && b[at++] !== 0);
  if (flags & 2) at += 2;
  const parts: Uint8Array[] = [];
  for (;;) {
    if (at + 5 > b.length) fail('truncated deflate data');
    const hdr = b[at]!;
    if ((hdr >> 1) & 3) fail('compressed deflate blocks: this archive was not written by Muster (a Consul snapshot holds Consul\'s own state format, which Muster cannot restore)');
    const len = b[at + 1]! | (b[at + 2]! << 8);
    const nlen = b[at + 3]! | (b[at + 4]! << 8);
    if ((len ^ 0xffff) !== nlen) fail('corrupt stored block length');
    at += 5;
    if (at + len > b.length) fail('truncated deflate data');
    parts.push(b.subarray(at, at + len));
    at += len;
    if (hdr & 1) break;
  }
  const data = concat(parts);
  if (at + 8 > b.length) fail('truncated gzip trailer');
  const crc = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  const size = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
  if (crc !== crc32(data) || size !== data.length >>> 0) fail('gzip checksum mismatch: the file is damaged');
  return data;
}

function untar(t: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const dec = new TextDecoder();
  for (let at = 0; at + 512 <= t.length; ) {
    const h = t.subarray(at, at + 512);
    if (h.every((x) => x === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    const recorded = parseInt(dec.decode(h.subarray(148, 156)).replace(/[\0 ]/g, ''), 8);
    if (recorded !== sum) fail('tar header checksum mismatch: the file is damaged');
    const name = dec.decode(h.subarray(0, 100)).replace(/\0.*$/s, '');
    const size = parseInt(dec.decode(h.subarray(124, 136)).replace(/[\0 ]/g, ''), 8);
    if (!Number.isSafeInteger(size) || at + 512 + size > t.length) fail(`tar entry '${name}' is truncated`);
    files.set(name, t.slice(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Reads and checks an archive; throws ArchiveError naming the problem. */
export function readArchive(bytes: Uint8Array): { meta: SnapshotMeta; state: Uint8Array } {
  const files = untar(gunzipStored(bytes));
  const metaBytes = files.get('meta.json') ?? fail('no meta.json in the archive');
  const state = files.get('state.bin') ?? fail('no state.bin in the archive');
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes)) as SnapshotMeta;
  } catch {
    return fail('meta.json is not JSON');
  }
  if (meta.Format !== 'muster-catalog') fail(`meta.json Format ${JSON.stringify(meta.Format)} is not 'muster-catalog' (not a Muster snapshot)`);
  if (meta.Size !== state.length || meta.CRC32 !== crc32(state)) fail('state.bin does not match the size and CRC-32 in meta.json: the file is damaged');
  return { meta, state };
}
