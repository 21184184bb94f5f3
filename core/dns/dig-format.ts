// core/dns/dig-format.ts — dig's output for a reply, for the simulator's virtual `dig`.
//
// Owns: reproducing dig 9's layout byte for byte: banner, header and flags lines, the
// recursion warning, OPT pseudosection, QUESTION/ANSWER/AUTHORITY/ADDITIONAL sections with
// BIND's tab columns (owner → TTL at 24, class 32, type 40, rdata 48, tab width 8; one space
// when a field already passed its column), and the Query time/SERVER/WHEN/MSG SIZE trailer.
// Must never: read a clock (time and date text come in `meta`) or throw on a bad reply.
import {
  className,
  nameText,
  OPCODE_NAMES,
  RCODE_NAMES,
  readMessage,
  typeCode,
  typeName,
  WireError,
  type WireMessage,
  type WireRecord,
} from './wire.ts';

export interface DigArgs {
  server: string;
  port: number;
  qname: string;
  /** As the user typed it; undefined ⇒ A and left out of the echoed command line. */
  qtype?: string;
  /** Extra words the user typed (e.g. '+tcp'), echoed after the query. */
  options?: string[];
}

export interface DigMeta {
  queryTimeMs: number;
  /** e.g. 'Mon Jul 06 12:12:53 CST 2015' (dig's `%a %b %d %H:%M:%S %Z %Y`). */
  whenText: string;
  /** '9.9' (the walkthrough's dig, default) or '9.18' (adds the transport to SERVER). */
  style?: '9.9' | '9.18';
  digVersion?: string;
  transport?: 'udp' | 'tcp';
}

const TAB = 8;

/** Builds one line the way BIND's masterdump does: tabs (width 8) up to a column, or one
 *  space when the text already reached it. `origin` is where column 0 is (dig counts the
 *  question's columns from after its leading ';'). */
class Columns {
  private text = '';
  private col = 0;
  constructor(first: string, origin = 0) {
    this.text = first;
    this.col = first.length - origin;
  }
  field(column: number, value: string): this {
    if (this.col >= column) {
      this.text += ' ';
      this.col += 1;
    } else {
      const tabs = Math.floor(column / TAB) - Math.floor(this.col / TAB);
      this.text += '\t'.repeat(tabs);
      this.col = column;
    }
    this.text += value;
    this.col += value.length;
    return this;
  }
  toString(): string {
    return this.text;
  }
}

function txtString(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b < 0x20 || b >= 0x7f) s += '\\' + String(b).padStart(3, '0');
    else s += String.fromCharCode(b);
  }
  return `${s}"`;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).toUpperCase().padStart(2, '0');
  return s;
}

function rdataText(r: WireRecord): string {
  const d = r.data;
  switch (d.kind) {
    case 'a':
    case 'aaaa':
      return d.address;
    case 'name':
      return nameText(d.target);
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${nameText(d.target)}`;
    case 'mx':
      return `${d.preference} ${nameText(d.exchange)}`;
    case 'soa':
      return `${nameText(d.mname)} ${nameText(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'txt':
      return d.strings.map(txtString).join(' ');
    default:
      return r.rdata.length === 0 ? '\\# 0' : `\\# ${r.rdata.length} ${hex(r.rdata)}`;
  }
}

function recordLine(r: WireRecord): string {
  return new Columns(nameText(r.name))
    .field(24, String(r.ttl))
    .field(32, className(r.klass))
    .field(40, typeName(r.type))
    .field(48, rdataText(r))
    .toString();
}

function flagsText(m: WireMessage): string {
  const h = m.header;
  const f: string[] = [];
  if (h.qr) f.push('qr');
  if (h.aa) f.push('aa');
  if (h.tc) f.push('tc');
  if (h.rd) f.push('rd');
  if (h.ra) f.push('ra');
  if (h.ad) f.push('ad');
  if (h.cd) f.push('cd');
  return f.join(' ');
}

function optLines(opt: WireRecord): string[] {
  const version = (opt.ttl >>> 16) & 0xff;
  const doBit = (opt.ttl & 0x8000) !== 0;
  return [';; OPT PSEUDOSECTION:', `; EDNS: version: ${version}, flags:${doBit ? ' do' : ''}; udp: ${opt.klass}`];
}

function commandLine(args: DigArgs): string {
  const words = [`@${args.server}`];
  if (args.port !== 53) words.push('-p', String(args.port));
  words.push(args.qname);
  if (args.qtype !== undefined) words.push(args.qtype);
  if (args.options) words.push(...args.options);
  return words.join(' ');
}

/** Formats `response` as dig prints it. Never throws: a reply dig could not parse prints as dig's complaint. */
export function formatDig(args: DigArgs, response: Uint8Array, meta: DigMeta): string {
  const style = meta.style ?? '9.9';
  const version = meta.digVersion ?? (style === '9.9' ? '9.9.5-3-Ubuntu' : '9.18.49-1~deb12u3-Debian');
  const out: string[] = ['', `; <<>> DiG ${version} <<>> ${commandLine(args)}`, '; (1 server found)', ';; global options: +cmd'];

  let m: WireMessage;
  try {
    m = readMessage(response);
  } catch (e) {
    const why = e instanceof WireError ? e.message : 'unexpected end of input';
    out.push(`;; Got bad packet: ${why}`, `${response.length} bytes`, '', '');
    return out.join('\n');
  }
  const h = m.header;
  const opt = m.additionals.find((r) => r.type === 41);
  const extendedRcode = opt ? ((opt.ttl >>> 24) << 4) | h.rcode : h.rcode;
  const status = extendedRcode === 16 ? 'BADVERS' : (RCODE_NAMES[extendedRcode] ?? `RESERVED${extendedRcode}`);
  out.push(';; Got answer:');
  out.push(`;; ->>HEADER<<- opcode: ${OPCODE_NAMES[h.opcode] ?? `RESERVED${h.opcode}`}, status: ${status}, id: ${h.id}`);
  out.push(
    `;; flags: ${flagsText(m)}; QUERY: ${h.qdcount}, ANSWER: ${h.ancount}, AUTHORITY: ${h.nscount}, ADDITIONAL: ${h.arcount}`,
  );
  if (h.rd && !h.ra) out.push(';; WARNING: recursion requested but not available');
  out.push('');
  if (opt) out.push(...optLines(opt));

  if (m.questions.length > 0) {
    out.push(';; QUESTION SECTION:');
    for (const q of m.questions) {
      // dig counts the question's columns from after its leading ';'.
      out.push(new Columns(`;${nameText(q.name)}`, 1).field(32, className(q.klass)).field(40, typeName(q.type)).toString());
    }
    out.push('');
  }
  const section = (title: string, records: WireRecord[]): void => {
    const shown = records.filter((r) => r.type !== 41);
    if (shown.length === 0) return;
    out.push(`;; ${title} SECTION:`);
    for (const r of shown) out.push(recordLine(r));
    out.push('');
  };
  section('ANSWER', m.answers);
  section('AUTHORITY', m.authorities);
  section('ADDITIONAL', m.additionals);

  const transport = meta.transport ?? 'udp';
  const server = `${args.server}#${args.port}(${args.server})${style === '9.18' ? ` (${transport.toUpperCase()})` : ''}`;
  out.push(`;; Query time: ${Math.round(meta.queryTimeMs)} msec`);
  out.push(`;; SERVER: ${server}`);
  out.push(`;; WHEN: ${meta.whenText}`);
  out.push(`;; MSG SIZE  rcvd: ${response.length}`);
  out.push('', '');
  return out.join('\n');
}

/** Query type code for what a user typed after the name ('SRV', 'aaaa', 'TYPE65'); undefined if unknown. */
export function digQueryType(text: string | undefined): number | undefined {
  return typeCode(text ?? 'A');
}
