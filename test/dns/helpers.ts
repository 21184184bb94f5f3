// test/dns/helpers.ts — asking the DNS core a question in tests.
//
// Owns: building a query, running resolveQuery with a fake view, decoding the reply with
// dns-packet (independent of core/dns/wire.ts, so the two readers check each other).
// Must never: be imported by non-test code.
import dnsPacket from 'dns-packet';
import type { LogEffect } from '../../core/machine.ts';
import { resolveQuery, type DnsContext } from '../../core/dns/answer.ts';
import { makeDnsConfig, type DnsConfig } from '../../core/dns/config.ts';
import { buildQuery } from '../../core/dns/query.ts';
import { makeRng, type Rng } from '../../core/rng.ts';
import type { CatalogView } from '../../core/catalog/types.ts';

export interface AskOptions {
  config?: Partial<DnsConfig>;
  transport?: 'udp' | 'tcp';
  edns?: number;
  rng?: Rng;
  id?: number;
  rd?: boolean;
}

/** dns-packet decodes the rcode but its types leave it out. */
export type Decoded = dnsPacket.DecodedPacket & { rcode: string };

export interface Asked {
  bytes: Uint8Array;
  packet: Decoded;
  logs: LogEffect[];
}

export function ctxFor(view: CatalogView, o: AskOptions = {}): DnsContext {
  return {
    view,
    config: makeDnsConfig(o.config),
    rng: o.rng ?? makeRng('dns-test'),
    transport: o.transport ?? 'udp',
    datacenter: 'dc1',
    nowMs: 1_436_155_973_000,
  };
}

export function ask(view: CatalogView, name: string, type: string, o: AskOptions = {}): Asked {
  const id = o.id ?? 4242;
  const req = buildQuery(name, type, { id, ednsPayloadBytes: o.edns, rd: o.rd });
  const outcome = resolveQuery(req, ctxFor(view, o));
  if (outcome.kind !== 'reply') throw new Error(`expected a reply, got ${outcome.kind}`);
  const packet = dnsPacket.decode(Buffer.from(outcome.bytes)) as Decoded;
  return { bytes: outcome.bytes, packet, logs: outcome.logs };
}

export function srvTargets(p: dnsPacket.DecodedPacket): string[] {
  return (p.answers ?? []).filter((a) => a.type === 'SRV').map((a) => (a as dnsPacket.SrvAnswer).data.target);
}
