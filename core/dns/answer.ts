// core/dns/answer.ts — one DNS query in, one DNS reply out, from the agent's catalog view.
//
// Owns: Consul's DNS answering: service lookups (A/AAAA/ANY and SRV with one additional
// A/AAAA per SRV target, weights from the service's Weights), prepared queries, node, `.addr.` and reverse
// (PTR) lookups, health filtering, per-query shuffling with the
// injected rng, NXDOMAIN/NODATA with Consul's SOA, flags (qr aa, rd echoed, ra only with
// recursors), EDNS, UDP/TCP trimming, FORMERR/NOTIMP for bad requests.
// Must never: throw, do I/O, read a clock, or draw randomness other than from ctx.rng.
// Every byte of the request is untrusted.
import dnsPacket, { type StringAnswer } from 'dns-packet';
import type { LogEffect } from '../machine.ts';
import type { Rng } from '../rng.ts';
import type { CatalogNode, CatalogView, ServiceInstance } from '../catalog/types.ts';
import { serviceTtlFor, type DnsConfig } from './config.ts';
import { parseGoDuration } from '../http/duration.ts';
import { filterHealthy, hasTag } from './health.ts';
import type { AnswerSet, DnsAnswerCache } from './cache.ts';
import { parseQueryName, type Lookup } from './names.ts';
import { addressRecords, fqdn, hexOf, ipBytes, ipText, isEncodableName, optRecord, ptrRecord, soaRecord, srvRecord, type Rr } from './records.ts';
import { fitUnits, limitsFor, type AnswerUnit, type TrimLimits } from './trim.ts';
import { readHeader, readName, readRecord, TYPE, WireError, type WireHeader, type WireRecord } from './wire.ts';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Extended RCODE 16 (BADVERS) = upper 8 bits 1 in OPT, lower 4 bits 0 in the header. */
const BADVERS_UPPER = 1;
/** A query is one question and an OPT record; anything this large is not one we answer. */
export const MAX_QUERY_BYTES = 4096;

export interface DnsContext {
  view: CatalogView;
  config: DnsConfig;
  rng: Rng;
  transport: 'udp' | 'tcp';
  /** This agent's datacenter (targets read `<node>.node.<dc>.<domain>`). */
  datacenter: string;
  nodeName?: string;
  /** Host time; the SOA serial is its Unix seconds (Consul's), else the catalog index. */
  nowMs?: number;
  /** Called with each log line as it is produced (source 'dns'). */
  onLog?: (line: LogEffect) => void;
  /** Reuses encoded records while the view's index stays the same (the answers are
   *  still shuffled per query). Optional: without it every query is built afresh. */
  cache?: DnsAnswerCache;
}

export type DnsOutcome =
  | { kind: 'reply'; bytes: Uint8Array; rcode: number; truncated: boolean; logs: LogEffect[] }
  | { kind: 'drop'; reason: string; logs: LogEffect[] }
  /** The name is outside the domain and recursors are configured: the host forwards `request`. */
  | { kind: 'forward'; recursors: string[]; request: Uint8Array; logs: LogEffect[] };

interface Query {
  header: WireHeader;
  /** Raw bytes of the question entry, echoed verbatim. */
  questionBytes: Uint8Array;
  labels: Uint8Array[];
  qname: string;
  qtype: number;
  /** EDNS requester payload size, or null without EDNS. */
  ednsPayloadBytes: number | null;
  ednsVersion: number;
}

class FormatError extends Error {}

function dnsLog(level: LogEffect['level'], text: string): LogEffect {
  return { kind: 'log', level, source: 'dns', text };
}

function log(logs: LogEffect[], level: LogEffect['level'], text: string): void {
  logs.push(dnsLog(level, text));
}

/** Text of a name whose labels are known printable ASCII; case kept as asked. */
function asciiName(labels: Uint8Array[]): string {
  if (labels.length === 0) return '.';
  return labels.map((l) => String.fromCharCode(...l)).join('.') + '.';
}

function parseQuery(req: Uint8Array, header: WireHeader): Query {
  if (header.qdcount !== 1) throw new FormatError(`query has ${header.qdcount} questions; exactly 1 is supported`);
  const name = readName(req, 12);
  if (name.compressed) throw new FormatError('question name uses a compression pointer');
  if (name.next + 4 > req.length) throw new FormatError('question ends early');
  const qtype = (req[name.next]! << 8) | req[name.next + 1]!;
  const questionEnd = name.next + 4;
  let off = questionEnd;
  let opt: WireRecord | null = null;
  const total = header.ancount + header.nscount + header.arcount;
  for (let i = 0; i < total; i++) {
    const { record, next } = readRecord(req, off);
    off = next;
    if (record.type === TYPE.OPT) {
      if (i < header.ancount + header.nscount) throw new FormatError('OPT record outside the additional section');
      if (opt) throw new FormatError('more than one OPT record');
      if (record.name.labels.length !== 0) throw new FormatError('OPT record not owned by the root');
      opt = record;
    }
  }
  return {
    header,
    questionBytes: req.subarray(12, questionEnd),
    labels: name.labels,
    qname: asciiName(name.labels),
    qtype,
    ednsPayloadBytes: opt ? opt.klass : null,
    ednsVersion: opt ? (opt.ttl >>> 16) & 0xff : 0,
  };
}

/** Header flags of a reply: QR, the request's opcode, AA, RD echoed, RA with recursors. */
function replyFlags(h: WireHeader, rcode: number, ra: boolean, tc: boolean): number {
  return 0x8000 | (h.opcode << 11) | 0x0400 | (tc ? 0x0200 : 0) | (h.rd ? 0x0100 : 0) | (ra ? 0x0080 : 0) | (rcode & 0xf);
}

function writeU16(out: Uint8Array, off: number, v: number): void {
  out[off] = (v >> 8) & 0xff;
  out[off + 1] = v & 0xff;
}

/** One record's wire bytes, written by dns-packet. Names go uncompressed, as Consul 0.5 sent
 *  them: the walkthrough's "MSG SIZE rcvd: 219" depends on it. */
export function encodeRr(rr: Rr): Uint8Array {
  return dnsPacket.encode({ type: 'response', answers: [rr] }).subarray(12);
}

const OPT_BYTES = encodeRr(optRecord(0));
const OPT_BADVERS_BYTES = encodeRr(optRecord(BADVERS_UPPER));

/** Header + echoed question + answers + authority + additionals (+ OPT), within `limits`. */
function buildReply(
  h: WireHeader,
  question: Uint8Array,
  flags: number,
  units: readonly AnswerUnit[],
  authority: readonly Uint8Array[],
  opt: Uint8Array | null,
  limits: TrimLimits,
): { bytes: Uint8Array; trimmed: boolean } {
  let fixed = 12 + question.length + (opt ? opt.length : 0);
  for (const a of authority) fixed += a.length;
  const fitted = fitUnits(units, fixed, limits);
  const out = new Uint8Array(fitted.bytes);
  writeU16(out, 0, h.id);
  writeU16(out, 2, flags);
  writeU16(out, 4, 1);
  writeU16(out, 6, fitted.answers.length);
  writeU16(out, 8, authority.length);
  writeU16(out, 10, fitted.additionals.length + (opt ? 1 : 0));
  let off = 12;
  const put = (b: Uint8Array): void => {
    out.set(b, off);
    off += b.length;
  };
  put(question);
  for (const b of fitted.answers) put(b);
  for (const b of authority) put(b);
  for (const b of fitted.additionals) put(b);
  if (opt) put(opt);
  return { bytes: out, trimmed: fitted.trimmed };
}

/** A reply carrying only a header (and the question when it was readable). */
function bareReply(h: WireHeader, rcode: number, question: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(12 + (question ? question.length : 0));
  writeU16(out, 0, h.id);
  writeU16(out, 2, 0x8000 | (h.opcode << 11) | (h.rd ? 0x0100 : 0) | (rcode & 0xf));
  writeU16(out, 4, question ? 1 : 0);
  if (question) out.set(question, 12);
  return out;
}

/** The service's instances: exact name first, then a case-insensitive match (DNS is). */
function instancesOf(view: CatalogView, service: string): ServiceInstance[] {
  const exact = view.serviceInstances(service);
  if (exact.length > 0) return exact;
  for (const name of [...view.services().keys()].sort()) {
    if (name !== service && name.toLowerCase() === service) return view.serviceInstances(name);
  }
  return [];
}

function nodeNamed(view: CatalogView, node: string): CatalogNode | undefined {
  const exact = view.node(node);
  if (exact) return exact;
  return view
    .nodes()
    .filter((n) => n.Node.toLowerCase() === node)
    .sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0))[0];
}

/** Consul's SRV weight: Weights.Warning when any of the instance's checks warns, else Weights.Passing. */
function srvWeight(inst: ServiceInstance): number {
  const warning = inst.Checks.some((c) => (c.ServiceID === '' || c.ServiceID === inst.Service.ID) && c.Status === 'warning');
  const w = warning ? inst.Service.Weights.Warning : inst.Service.Weights.Passing;
  return Number.isInteger(w) ? Math.min(0xffff, Math.max(0, w)) : 1;
}

const effectiveAddress = (inst: ServiceInstance): string => (inst.Service.Address !== '' ? inst.Service.Address : inst.Node.Address);

/**
 * Where an SRV record points and which records name that target. The node name is the
 * target while it stands for one address in this answer (Consul 0.5's form, which the
 * walkthrough's transcript shows: `n2.node.dc1.consul. A 127.0.0.1` for a service address).
 * When one node answers several addresses for the service, an instance whose own IP address
 * is not the node's gets `<hex>.addr.<dc>.<domain>` (Consul 1.x's form: one SRV target
 * cannot carry several IPs), and a host-name service address is its own target.
 */
function srvTarget(
  inst: ServiceInstance,
  nodeIsAmbiguous: boolean,
  ctx: DnsContext,
  dc: string,
  ttl: number,
): { target: string; extra: StringAnswer[] } {
  const nodeTarget = `${inst.Node.Node}.node.${dc}.${ctx.config.domain}`;
  const address = effectiveAddress(inst);
  if (!nodeIsAmbiguous || address === inst.Node.Address) {
    return { target: nodeTarget, extra: addressRecords(nodeTarget, address, TYPE.ANY, ttl) };
  }
  const bytes = ipBytes(address);
  if (bytes === null) return { target: fqdn(address), extra: [] };
  const target = `${hexOf(bytes)}.addr.${dc}.${ctx.config.domain}`;
  return { target, extra: addressRecords(target, address, TYPE.ANY, ttl) };
}

function serviceAnswers(q: Query, ctx: DnsContext, service: string, tag: string, dc: string): AnswerSet {
  const all = instancesOf(ctx.view, service).filter((i) => hasTag(i, tag));
  const { healthy, logs } = filterHealthy(all, ctx.config.onlyPassing);
  return instanceAnswers(q, ctx, healthy, logs, serviceTtlFor(ctx.config, service), dc);
}

/** `<id or name>.query.<domain>`: the prepared query's instances (its own health, tag and meta
 *  filters applied by the view), TTL from the query's DNS.TTL, else the service's TTL. */
function queryAnswers(q: Query, ctx: DnsContext, name: string, dc: string): AnswerSet {
  const r = ctx.view.preparedQueryExecute?.(name) ?? null;
  if (!r) return { rcode: RCODE.NXDOMAIN, units: [], logs: [], shuffle: false };
  const ttlMs = r.Query.DNS.TTL === '' ? null : parseGoDuration(r.Query.DNS.TTL);
  const ttl = ttlMs === null ? serviceTtlFor(ctx.config, r.Query.Service.Service) : Math.floor(ttlMs / 1000);
  return instanceAnswers(q, ctx, r.Nodes, [], ttl, dc);
}

function instanceAnswers(q: Query, ctx: DnsContext, healthy: readonly ServiceInstance[], logs: LogEffect[], ttl: number, dc: string): AnswerSet {
  if (healthy.length === 0) return { rcode: RCODE.NXDOMAIN, units: [], logs, shuffle: false };

  const units: AnswerUnit[] = [];
  const seen = new Set<string>();
  if (q.qtype === TYPE.SRV) {
    const addressesOfNode = new Map<string, Set<string>>();
    for (const inst of healthy) {
      const set = addressesOfNode.get(inst.Node.Node) ?? new Set<string>();
      set.add(effectiveAddress(inst));
      addressesOfNode.set(inst.Node.Node, set);
    }
    for (const inst of healthy) {
      // One SRV per (node, service address, port), as Consul: instances that share a port
      // but have their own addresses are distinct endpoints; two registrations of the same
      // address and port are one.
      const key = `${inst.Node.Node}\u0000${inst.Service.Address}\u0000${inst.Service.Port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const { target, extra } = srvTarget(inst, addressesOfNode.get(inst.Node.Node)!.size > 1, ctx, dc, ttl);
      if (!isEncodableName(target)) {
        logs.push({
          kind: 'log', level: 'WARN', source: 'dns',
          text: `SRV target '${target}' of service '${inst.Service.Service}' on node '${inst.Node.Node}' is not a valid DNS name; leaving it out`,
        });
        continue;
      }
      units.push({
        answer: encodeRr(srvRecord(q.qname, inst.Service.Port, target, ttl, srvWeight(inst))),
        additionals: extra.map(encodeRr),
      });
    }
  } else {
    for (const inst of healthy) {
      const address = effectiveAddress(inst);
      if (seen.has(address)) continue;
      seen.add(address);
      for (const rr of addressRecords(q.qname, address, q.qtype, ttl)) units.push({ answer: encodeRr(rr), additionals: [] });
    }
  }
  return { rcode: RCODE.NOERROR, units, logs, shuffle: true };
}

function nodeAnswers(q: Query, ctx: DnsContext, nodeName: string): AnswerSet {
  const node = nodeNamed(ctx.view, nodeName);
  if (!node) return { rcode: RCODE.NXDOMAIN, units: [], logs: [], shuffle: false };
  const units = addressRecords(q.qname, node.Address, q.qtype, ctx.config.nodeTtlS).map((rr) => ({ answer: encodeRr(rr), additionals: [] }));
  return { rcode: RCODE.NOERROR, units, logs: [], shuffle: false };
}

/** `<hex>.addr.…`: the address itself, with the node TTL (as Consul). */
function addrAnswers(q: Query, ctx: DnsContext, address: Uint8Array): AnswerSet {
  const units = addressRecords(q.qname, ipText(address), q.qtype, ctx.config.nodeTtlS).map((rr) => ({ answer: encodeRr(rr), additionals: [] }));
  return { rcode: RCODE.NOERROR, units, logs: [], shuffle: false };
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array): boolean => a !== null && a.length === b.length && a.every((x, i) => x === b[i]);

/** `dig -x`: the node with that address, else a service registered at it (Consul's handlePtr). */
function ptrAnswers(q: Query, ctx: DnsContext, address: Uint8Array | null): AnswerSet {
  const none: AnswerSet = { rcode: RCODE.NXDOMAIN, units: [], logs: [], shuffle: false };
  if (address === null) return none;
  const dc = ctx.datacenter;
  const domain = ctx.config.domain;
  const answer = (target: string): AnswerSet =>
    isEncodableName(target) ? { rcode: RCODE.NOERROR, units: [{ answer: encodeRr(ptrRecord(q.qname, target, 0)), additionals: [] }], logs: [], shuffle: false } : none;
  const node = ctx.view.nodes().find((n) => sameBytes(ipBytes(n.Address), address));
  if (node) return answer(`${node.Node}.node.${dc}.${domain}`);
  for (const name of ctx.view.services().keys()) {
    if (ctx.view.serviceInstances(name).some((i) => sameBytes(ipBytes(i.Service.Address), address))) {
      return answer(`${name}.service.${dc}.${domain}`);
    }
  }
  return none;
}

/** What the name and type resolve to, before shuffling and trimming (cacheable per catalog index). */
function answerSet(q: Query, ctx: DnsContext, lookup: Lookup): AnswerSet {
  if (lookup.kind === 'invalid') {
    return { rcode: RCODE.NXDOMAIN, units: [], logs: [dnsLog('WARN', `QName invalid: ${q.qname}`)], shuffle: false };
  }
  if (lookup.kind === 'outside') return { rcode: RCODE.REFUSED, units: [], logs: [], shuffle: false };
  if (lookup.datacenter !== null && lookup.datacenter !== ctx.datacenter.toLowerCase()) {
    return { rcode: RCODE.SERVFAIL, units: [], logs: [dnsLog('ERR', `rpc error: No path to datacenter '${lookup.datacenter}'`)], shuffle: false };
  }
  if (lookup.kind === 'service') return serviceAnswers(q, ctx, lookup.service, lookup.tag, ctx.datacenter);
  if (lookup.kind === 'query') return queryAnswers(q, ctx, lookup.query, ctx.datacenter);
  if (lookup.kind === 'addr') return addrAnswers(q, ctx, lookup.address);
  if (lookup.kind === 'ptr') return ptrAnswers(q, ctx, lookup.address);
  return nodeAnswers(q, ctx, lookup.node);
}

function respond(req: Uint8Array, ctx: DnsContext, logs: LogEffect[]): DnsOutcome {
  if (req.length < 12) return { kind: 'drop', reason: `packet of ${req.length} bytes is shorter than a DNS header`, logs };
  const header = readHeader(req);
  // Never answer a response: two servers could bounce FORMERRs at each other forever.
  if (header.qr) return { kind: 'drop', reason: 'packet is a response, not a query', logs };
  const reply = (bytes: Uint8Array, rcode: number, truncated = false): DnsOutcome => ({ kind: 'reply', bytes, rcode, truncated, logs });
  if (req.length > MAX_QUERY_BYTES) {
    log(logs, 'WARN', `query of ${req.length} bytes is over the ${MAX_QUERY_BYTES}-byte limit; answering FORMERR`);
    return reply(bareReply(header, RCODE.FORMERR, null), RCODE.FORMERR);
  }
  if (header.opcode !== 0) return reply(bareReply(header, RCODE.NOTIMP, null), RCODE.NOTIMP);

  let q: Query;
  try {
    q = parseQuery(req, header);
  } catch (e) {
    if (e instanceof FormatError || e instanceof WireError) {
      log(logs, 'DEBUG', `malformed query ${header.id}: ${e.message}; answering FORMERR`);
      return reply(bareReply(header, RCODE.FORMERR, null), RCODE.FORMERR);
    }
    throw e;
  }

  const { config } = ctx;
  const recursion = config.recursors.length > 0;
  const edns = q.ednsPayloadBytes !== null;
  const noLimits = limitsFor('tcp', null, 1);
  if (edns && q.ednsVersion > 0) {
    const built = buildReply(header, q.questionBytes, replyFlags(header, 0, recursion, false), [], [], OPT_BADVERS_BYTES, noLimits);
    return reply(built.bytes, 16);
  }

  const lookup = parseQueryName(q.labels, config.domain);
  if (lookup.kind === 'outside') {
    if (recursion) return { kind: 'forward', recursors: config.recursors.slice(), request: req, logs };
    const built = buildReply(header, q.questionBytes, replyFlags(header, RCODE.REFUSED, false, false), [], [], edns ? OPT_BYTES : null, noLimits);
    return reply(built.bytes, RCODE.REFUSED);
  }

  const key = `${q.qtype}|${q.qname}`;
  let set = ctx.cache?.get(ctx, key);
  if (!set) {
    set = answerSet(q, ctx, lookup);
    ctx.cache?.set(key, set);
  }
  // A reverse name we hold nothing for goes upstream, as any other name outside our data.
  if (lookup.kind === 'ptr' && set.units.length === 0 && recursion) {
    return { kind: 'forward', recursors: config.recursors.slice(), request: req, logs };
  }
  logs.push(...set.logs);
  const units = set.shuffle && set.units.length > 1 ? ctx.rng.shuffle(set.units) : set.units;

  // NXDOMAIN and "name exists, no record of that type" both carry the SOA (RFC 2308).
  const negative = set.rcode === RCODE.NXDOMAIN || (set.rcode === RCODE.NOERROR && set.units.length === 0);
  const serial = ctx.nowMs !== undefined ? Math.floor(ctx.nowMs / 1000) : ctx.view.lastIndex();
  const authority = negative ? [encodeRr(soaRecord(config.domain, serial))] : [];
  const limits = limitsFor(ctx.transport, q.ednsPayloadBytes, config.udpAnswerLimit);
  // The TC bit depends on the trimming, so build once without it and patch the flag.
  const built = buildReply(header, q.questionBytes, replyFlags(header, set.rcode, recursion, false), units, authority, edns ? OPT_BYTES : null, limits);
  const tc = built.trimmed && ctx.transport === 'udp' && config.enableTruncate;
  if (tc) built.bytes[2]! |= 0x02;
  return reply(built.bytes, set.rcode, built.trimmed);
}

/** Answers one query; every failure becomes FORMERR/SERVFAIL or a drop, never an exception. */
export function resolveQuery(req: Uint8Array, ctx: DnsContext): DnsOutcome {
  const logs: LogEffect[] = [];
  let outcome: DnsOutcome;
  try {
    outcome = respond(req, ctx, logs);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log(logs, 'ERR', `failed to answer a query: ${message}`);
    try {
      const header = readHeader(req);
      outcome = header.qr
        ? { kind: 'drop', reason: message, logs }
        : { kind: 'reply', bytes: bareReply(header, RCODE.SERVFAIL, null), rcode: RCODE.SERVFAIL, truncated: false, logs };
    } catch {
      outcome = { kind: 'drop', reason: message, logs };
    }
  }
  if (ctx.onLog) {
    for (const line of logs) {
      try {
        ctx.onLog(line);
      } catch {
        // A failing log sink must not turn into a failed query.
      }
    }
  }
  return outcome;
}

/** The reply bytes, or null when the packet is to be dropped (or forwarded by the caller). */
export function answerQuery(req: Uint8Array, ctx: DnsContext): Uint8Array | null {
  const outcome = resolveQuery(req, ctx);
  return outcome.kind === 'reply' ? outcome.bytes : null;
}
