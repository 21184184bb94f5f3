// core/dns/wire.ts — a bounds-checked reader for DNS messages (RFC 1035 §4) on plain bytes.
//
// Owns: turning untrusted bytes into a header, questions and resource records (names with
// compression pointers, rdata of the types Muster answers or dig prints), and type/class names.
// Must never: throw anything but WireError, read past the input, follow a pointer forwards
// (that is how loops are built), or allocate more than the input can describe.
//
// dns-packet writes Muster's responses; it reads only Node Buffers, so the request side and
// the dig formatter read with this instead and keep core free of Buffer.

export class WireError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY',
  52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 251: 'IXFR', 255: 'ANY', 257: 'CAA',
};
const TYPE_CODES: Record<string, number> = Object.fromEntries(Object.entries(TYPE_NAMES).map(([k, v]) => [v, Number(k)]));
const CLASS_NAMES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };

/** RFC 3597 names for types without a mnemonic ('TYPE65280'). */
export function typeName(code: number): string {
  return TYPE_NAMES[code] ?? `TYPE${code}`;
}
export function typeCode(name: string): number | undefined {
  const upper = name.toUpperCase();
  if (TYPE_CODES[upper] !== undefined) return TYPE_CODES[upper];
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : undefined;
}
export function className(code: number): string {
  return CLASS_NAMES[code] ?? `CLASS${code}`;
}

export const RCODE_NAMES = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET',
  'NXRRSET', 'NOTAUTH', 'NOTZONE', 'RESERVED11', 'RESERVED12', 'RESERVED13', 'RESERVED14', 'RESERVED15',
];
export const OPCODE_NAMES = ['QUERY', 'IQUERY', 'STATUS', 'RESERVED3', 'NOTIFY', 'UPDATE'];

export interface WireHeader {
  id: number;
  /** The raw second 16-bit word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE). */
  flags: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface WireName {
  /** Raw label bytes, top label last; [] is the root. */
  labels: Uint8Array[];
  /** Offset just after the name where it appeared (not where a pointer led). */
  next: number;
  /** True when the name used a compression pointer. */
  compressed: boolean;
}

export interface WireQuestion {
  name: WireName;
  type: number;
  klass: number;
  /** Byte range of the whole question entry in the message. */
  start: number;
  end: number;
}

export type RData =
  | { kind: 'a'; address: string }
  | { kind: 'aaaa'; address: string }
  | { kind: 'name'; target: WireName }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: WireName }
  | { kind: 'mx'; preference: number; exchange: WireName }
  | { kind: 'soa'; mname: WireName; rname: WireName; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'txt'; strings: Uint8Array[] }
  | { kind: 'opt'; options: { code: number; data: Uint8Array }[] }
  | { kind: 'raw' };

export interface WireRecord {
  name: WireName;
  type: number;
  /** For OPT this is the requester's UDP payload size. */
  klass: number;
  /** For OPT this holds extended RCODE (8 bits), version (8) and flags (16). */
  ttl: number;
  rdata: Uint8Array;
  data: RData;
}

export interface WireMessage {
  header: WireHeader;
  questions: WireQuestion[];
  answers: WireRecord[];
  authorities: WireRecord[];
  additionals: WireRecord[];
  /** Bytes consumed; anything after is trailing garbage the caller may ignore. */
  end: number;
}

const MAX_NAME_BYTES = 255;
const MAX_POINTER_HOPS = 127;

function u16(buf: Uint8Array, off: number): number {
  if (off + 2 > buf.length) throw new WireError(off, 'message ends inside a 16-bit field');
  return (buf[off]! << 8) | buf[off + 1]!;
}
function u32(buf: Uint8Array, off: number): number {
  if (off + 4 > buf.length) throw new WireError(off, 'message ends inside a 32-bit field');
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function readHeader(buf: Uint8Array): WireHeader {
  if (buf.length < 12) throw new WireError(0, `message of ${buf.length} bytes is shorter than the 12-byte header`);
  const flags = u16(buf, 2);
  return {
    id: u16(buf, 0),
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
    qdcount: u16(buf, 4),
    ancount: u16(buf, 6),
    nscount: u16(buf, 8),
    arcount: u16(buf, 10),
  };
}

export function readName(buf: Uint8Array, start: number): WireName {
  const labels: Uint8Array[] = [];
  let off = start;
  let next = -1;
  let total = 1;
  let hops = 0;
  // A pointer may only lead to an earlier offset than the one it sits at, so every hop
  // strictly decreases the position: no loops, and hops are bounded anyway.
  let floor = start;
  for (;;) {
    if (off >= buf.length) throw new WireError(off, 'message ends inside a name');
    const len = buf[off]!;
    if (len === 0) {
      if (next < 0) next = off + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      const target = u16(buf, off) & 0x3fff;
      if (target >= floor) throw new WireError(off, 'compression pointer does not point backwards');
      if (++hops > MAX_POINTER_HOPS) throw new WireError(off, 'too many compression pointers');
      if (next < 0) next = off + 2;
      floor = target;
      off = target;
      continue;
    }
    if (kind !== 0) throw new WireError(off, `unsupported label type 0x${kind.toString(16)}`);
    if (off + 1 + len > buf.length) throw new WireError(off, 'message ends inside a label');
    total += len + 1;
    if (total > MAX_NAME_BYTES) throw new WireError(start, 'name longer than 255 bytes');
    labels.push(buf.subarray(off + 1, off + 1 + len));
    off += 1 + len;
  }
  return { labels, next, compressed: hops > 0 };
}

function readQuestion(buf: Uint8Array, off: number): WireQuestion {
  const name = readName(buf, off);
  const type = u16(buf, name.next);
  const klass = u16(buf, name.next + 2);
  return { name, type, klass, start: off, end: name.next + 4 };
}

function readRData(buf: Uint8Array, type: number, off: number, len: number): RData {
  const end = off + len;
  const nameWithin = (at: number): WireName => {
    const n = readName(buf, at);
    if (n.next > end) throw new WireError(at, 'name runs past its record');
    return n;
  };
  const exact = (expected: number): void => {
    if (len !== expected) throw new WireError(off, `${typeName(type)} rdata of ${len} bytes, expected ${expected}`);
  };
  switch (type) {
    case TYPE.A:
      exact(4);
      return { kind: 'a', address: `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}` };
    case TYPE.AAAA:
      exact(16);
      return { kind: 'aaaa', address: formatIPv6(buf.subarray(off, end)) };
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR: {
      const target = nameWithin(off);
      if (target.next !== end) throw new WireError(off, 'trailing bytes in name rdata');
      return { kind: 'name', target };
    }
    case TYPE.MX: {
      if (len < 3) throw new WireError(off, 'MX rdata too short');
      const exchange = nameWithin(off + 2);
      return { kind: 'mx', preference: u16(buf, off), exchange };
    }
    case TYPE.SRV: {
      if (len < 7) throw new WireError(off, 'SRV rdata too short');
      const target = nameWithin(off + 6);
      if (target.next !== end) throw new WireError(off, 'trailing bytes in SRV rdata');
      return { kind: 'srv', priority: u16(buf, off), weight: u16(buf, off + 2), port: u16(buf, off + 4), target };
    }
    case TYPE.SOA: {
      const mname = nameWithin(off);
      const rname = nameWithin(mname.next);
      if (rname.next + 20 !== end) throw new WireError(off, 'SOA rdata has the wrong length');
      const at = rname.next;
      return {
        kind: 'soa', mname, rname,
        serial: u32(buf, at), refresh: u32(buf, at + 4), retry: u32(buf, at + 8), expire: u32(buf, at + 12), minimum: u32(buf, at + 16),
      };
    }
    case TYPE.TXT: {
      const strings: Uint8Array[] = [];
      let at = off;
      while (at < end) {
        const n = buf[at]!;
        if (at + 1 + n > end) throw new WireError(at, 'TXT string runs past its record');
        strings.push(buf.subarray(at + 1, at + 1 + n));
        at += 1 + n;
      }
      return { kind: 'txt', strings };
    }
    case TYPE.OPT: {
      const options: { code: number; data: Uint8Array }[] = [];
      let at = off;
      while (at < end) {
        if (at + 4 > end) throw new WireError(at, 'EDNS option header runs past OPT');
        const code = u16(buf, at);
        const olen = u16(buf, at + 2);
        if (at + 4 + olen > end) throw new WireError(at, 'EDNS option runs past OPT');
        options.push({ code, data: buf.subarray(at + 4, at + 4 + olen) });
        at += 4 + olen;
      }
      return { kind: 'opt', options };
    }
    default:
      return { kind: 'raw' };
  }
}

export function readRecord(buf: Uint8Array, off: number): { record: WireRecord; next: number } {
  const name = readName(buf, off);
  const at = name.next;
  const type = u16(buf, at);
  const klass = u16(buf, at + 2);
  const ttl = u32(buf, at + 4);
  const len = u16(buf, at + 8);
  const rdStart = at + 10;
  if (rdStart + len > buf.length) throw new WireError(at + 8, `rdata of ${len} bytes runs past the message`);
  const data = readRData(buf, type, rdStart, len);
  return { record: { name, type, klass, ttl, rdata: buf.subarray(rdStart, rdStart + len), data }, next: rdStart + len };
}

/** Reads a whole message. Counts are trusted only as far as the bytes back them. */
export function readMessage(buf: Uint8Array): WireMessage {
  const header = readHeader(buf);
  let off = 12;
  const questions: WireQuestion[] = [];
  for (let i = 0; i < header.qdcount; i++) {
    const q = readQuestion(buf, off);
    questions.push(q);
    off = q.end;
  }
  const section = (count: number): WireRecord[] => {
    const out: WireRecord[] = [];
    for (let i = 0; i < count; i++) {
      const r = readRecord(buf, off);
      out.push(r.record);
      off = r.next;
    }
    return out;
  };
  const answers = section(header.ancount);
  const authorities = section(header.nscount);
  const additionals = section(header.arcount);
  return { header, questions, answers, authorities, additionals, end: off };
}

/** Master-file text of a name, escaped the way dig prints it; always ends with '.'. */
export function nameText(name: WireName | Uint8Array[]): string {
  const labels = Array.isArray(name) ? name : name.labels;
  if (labels.length === 0) return '.';
  return labels.map(labelText).join('.') + '.';
}

const SPECIAL = new Set([0x22, 0x28, 0x29, 0x2e, 0x3b, 0x5c, 0x40, 0x24]); // " ( ) . ; \ @ $

export function labelText(label: Uint8Array): string {
  let s = '';
  for (const b of label) {
    if (b <= 0x20 || b >= 0x7f) s += '\\' + String(b).padStart(3, '0');
    else if (SPECIAL.has(b)) s += '\\' + String.fromCharCode(b);
    else s += String.fromCharCode(b);
  }
  return s;
}

/** RFC 5952 text form: lowercase hex, leading zeros dropped, longest run (≥2) of zero groups as '::'. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number): string => g.toString(16);
  if (bestStart < 0) return groups.map(hex).join(':');
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups.slice(bestStart + bestLen).map(hex).join(':');
  return `${head}::${tail}`;
}
