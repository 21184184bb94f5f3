// core/dns/query.ts — building a DNS query, for clients of the DNS interface.
//
// Owns: the bytes of a one-question query as dig or a Go client sends it (RD set; EDNS
// optional), so the simulator's virtual dig, `muster discover` and tests ask the same way.
// Must never: send anything; transports and the simulator carry the bytes.
import dnsPacket from 'dns-packet';
import { typeCode } from './wire.ts';

export interface QueryOptions {
  id: number;
  /** Recursion desired (dig and miekg/dns set it). Default true. */
  rd?: boolean;
  /** EDNS UDP payload size to advertise; undefined ⇒ no OPT record (dig 9.9 / +noedns). */
  ednsPayloadBytes?: number;
}

/** Query bytes for `name` (trailing dot optional) and a type name such as 'SRV'. Throws on an unknown type. */
export function buildQuery(name: string, type: string, opts: QueryOptions): Uint8Array {
  const code = typeCode(type);
  if (code === undefined) throw new Error(`unknown DNS record type '${type}'; use A, AAAA, SRV, ANY, TXT, … or TYPEnnn`);
  const edns = opts.ednsPayloadBytes;
  if (edns !== undefined && (!Number.isInteger(edns) || edns < 0 || edns > 0xffff)) {
    throw new Error(`EDNS payload size ${edns} is not a whole number from 0 to 65535`);
  }
  const upper = type.toUpperCase();
  const bytes = dnsPacket.encode({
    type: 'query',
    id: opts.id & 0xffff,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name: name.replace(/\.$/, '') || '.', type: upper as dnsPacket.RecordType }],
    additionals:
      opts.ednsPayloadBytes === undefined
        ? []
        : [{ name: '.', type: 'OPT', udpPayloadSize: opts.ednsPayloadBytes, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
  // dns-packet only knows mnemonic types; patch the code in for TYPEnnn and friends.
  const qtypeAt = bytes.length - 4 - (opts.ednsPayloadBytes === undefined ? 0 : 11);
  bytes[qtypeAt] = code >> 8;
  bytes[qtypeAt + 1] = code & 0xff;
  if (edns !== undefined) {
    // dns-packet writes `udpPayloadSize || 4096`, so a size of 0 would go out as 4096 and a
    // test asking "what does a client advertising 0 get" would really ask for 4096. Write the
    // OPT CLASS field (the payload size: 3 bytes into the 11-byte OPT record) ourselves.
    const classAt = bytes.length - 11 + 3;
    bytes[classAt] = edns >> 8;
    bytes[classAt + 1] = edns & 0xff;
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
