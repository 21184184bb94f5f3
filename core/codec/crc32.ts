// core/codec/crc32.ts — CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven.
//
// Owns: the checksum Raft's log records and snapshots carry so torn or corrupted writes are
// detected on restart.
// Must never: depend on platform crypto or zlib; core must stay pure and portable.

const TABLE: Uint32Array = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** Continue a running CRC: `crc32Update(crc32(a), b) === crc32(concat(a, b))`. */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of `bytes` (or of bytes[start, end)) as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Update(0, bytes, start, end);
}
