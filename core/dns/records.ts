// core/dns/records.ts — the resource records Muster's DNS interface answers with.
//
// Owns: building A/AAAA/CNAME records for an address, Consul's SRV, PTR and SOA records, the
// OPT record of an EDNS reply, and checking a name can go on the wire (labels ≤ 63 bytes,
// ≤ 255 in all) before dns-packet writes it; IP literals as bytes (for `.addr.` names and PTR).
// Must never: look at the catalog or the query; callers decide which records to build.
import type { OptAnswer, SoaAnswer, SrvAnswer, StringAnswer } from 'dns-packet';

export type Rr = StringAnswer | SrvAnswer | SoaAnswer | OptAnswer;

/** UTF-8 byte length (names come from the catalog and may, in principle, be non-ASCII). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Wire length of an uncompressed name given as text (with or without the trailing dot). */
export function nameWireLength(name: string): number {
  const n = name.replace(/^\.|\.$/g, '');
  return n.length === 0 ? 1 : utf8Length(n) + 2;
}

/** True when dns-packet can write `name` as a valid wire name (labels 1-63 bytes, ≤ 255 total). */
export function isEncodableName(name: string): boolean {
  const n = name.replace(/\.$/, '');
  if (n === '') return true;
  if (nameWireLength(name) > 255) return false;
  return n.split('.').every((l) => {
    const len = utf8Length(l);
    return len >= 1 && len <= 63;
  });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIPv6(s: string): boolean {
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return false;
  const doubles = s.split('::').length - 1;
  if (doubles > 1) return false;
  let groups = s.split(':').filter((g) => g !== '');
  let need = 8;
  const last = groups[groups.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    groups = groups.slice(0, -1);
    need = 6;
  }
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return doubles === 1 ? groups.length < need : groups.length === need;
}

/** The address as 4 or 16 bytes, or null when it is not an IP literal (a host name). */
export function ipBytes(address: string): Uint8Array | null {
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  if (!isIPv6(address)) return null;
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
    tail.push(...text.slice(lastColon + 1).split('.').map(Number));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined): number[] => (part ? part.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(rest);
  const groups = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** Text form of 4 or 16 address bytes (IPv6 written out in full, which every reader accepts). */
export function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

export function hexOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/**
 * Records for "this name lives at this address" filtered by the asked type, as Consul's
 * formatNodeRecord: an IPv4 address answers A/ANY, an IPv6 address AAAA/ANY, and anything
 * else is a host name answered with a CNAME.
 */
export function addressRecords(owner: string, address: string, qtype: number, ttl: number): StringAnswer[] {
  const wantsA = qtype === 1 || qtype === 255;
  const wantsAAAA = qtype === 28 || qtype === 255;
  if (isIPv4(address)) return wantsA ? [{ name: owner, type: 'A', ttl, class: 'IN', data: address }] : [];
  if (isIPv6(address)) return wantsAAAA ? [{ name: owner, type: 'AAAA', ttl, class: 'IN', data: address }] : [];
  if ((wantsA || wantsAAAA) && address !== '' && isEncodableName(address)) {
    return [{ name: owner, type: 'CNAME', ttl, class: 'IN', data: fqdn(address) }];
  }
  return [];
}

export function srvRecord(owner: string, port: number, target: string, ttl: number, weight = 1): SrvAnswer {
  return { name: owner, type: 'SRV', ttl, class: 'IN', data: { priority: 1, weight, port, target } };
}

export function ptrRecord(owner: string, target: string, ttl: number): StringAnswer {
  return { name: owner, type: 'PTR', ttl, class: 'IN', data: target };
}

/** `consul. 0 IN SOA ns.consul. postmaster.consul. <serial> 3600 600 86400 0` */
export function soaRecord(domain: string, serial: number): SoaAnswer {
  return {
    name: domain,
    type: 'SOA',
    ttl: 0,
    class: 'IN',
    data: {
      mname: `ns.${domain}`,
      rname: `postmaster.${domain}`,
      serial: serial >>> 0,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 0,
    },
  };
}

export const EDNS_UDP_PAYLOAD_BYTES = 4096;

export function optRecord(extendedRcode: number): OptAnswer {
  return {
    name: '.',
    type: 'OPT',
    udpPayloadSize: EDNS_UDP_PAYLOAD_BYTES,
    extendedRcode,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

