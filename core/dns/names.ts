// core/dns/names.ts — what a query name asks for, in Consul's DNS grammar.
//
// Owns: parsing `[tag.]NAME.service[.DC].<domain>`, RFC 2782 `_NAME._TAG.service[.DC].<domain>`,
// `NODE.node[.DC].<domain>`, `NAME.query[.DC].<domain>` (a prepared query), `<hex>.addr[.DC].<domain>` (the SRV target of a service with its
// own address) and reverse names under `in-addr.arpa` / `ip6.arpa`, case-insensitively.
// Must never: consult the catalog; existence is the answerer's business.

export type Lookup =
  | { kind: 'service'; service: string; tag: string; datacenter: string | null }
  | { kind: 'node'; node: string; datacenter: string | null }
  /** A prepared query by ID or name; the name may hold dots (Consul joins the labels). */
  | { kind: 'query'; query: string; datacenter: string | null }
  /** `<hex>.addr.…`: 4 or 16 address bytes. Consul ignores the datacenter label here. */
  | { kind: 'addr'; address: Uint8Array; datacenter: null }
  /** A reverse name (`dig -x`): the address asked about, or null when it is no whole address. */
  | { kind: 'ptr'; address: Uint8Array | null; datacenter: null }
  /** Inside the domain but not a form Consul answers (NXDOMAIN). */
  | { kind: 'invalid' }
  /** Not under the domain at all (recursors, or refused). */
  | { kind: 'outside' };

/** Lowercase ASCII text of a label, or null when it holds bytes no Consul name can have. */
function plainLabel(label: Uint8Array): string | null {
  let s = '';
  for (const b of label) {
    // '.' inside a label or non-printable bytes can never match a catalog name.
    if (b <= 0x20 || b >= 0x7f || b === 0x2e) return null;
    s += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
  }
  return s;
}

export function parseQueryName(labels: Uint8Array[], domain: string): Lookup {
  // Consul serves `arpa.` beside its own domain (its PTR handler).
  const reverse = parseReverseName(labels);
  if (reverse !== null) return { kind: 'ptr', address: reverse === 'invalid' ? null : reverse, datacenter: null };
  const domainLabels = domain.replace(/\.$/, '').split('.');
  if (labels.length < domainLabels.length) return { kind: 'outside' };
  const texts = labels.map(plainLabel);
  const tailStart = labels.length - domainLabels.length;
  for (let i = 0; i < domainLabels.length; i++) {
    if (texts[tailStart + i] !== domainLabels[i]) return { kind: 'outside' };
  }
  const parts = texts.slice(0, tailStart);
  if (parts.some((p) => p === null)) return { kind: 'invalid' };
  const words = parts as string[];

  let datacenter: string | null = null;
  let end = words.length;
  if (end === 0) return { kind: 'invalid' };
  if (words[end - 1] !== 'service' && words[end - 1] !== 'node' && words[end - 1] !== 'addr' && words[end - 1] !== 'query') {
    datacenter = words[end - 1]!;
    end--;
  }
  if (end < 2) return { kind: 'invalid' };
  const kind = words[end - 1];
  const query = words.slice(0, end - 1);

  if (kind === 'node') return { kind: 'node', node: query.join('.'), datacenter };
  if (kind === 'query') return { kind: 'query', query: query.join('.'), datacenter };
  if (kind === 'addr') {
    const hex = query.length === 1 ? query[0]! : '';
    if (!/^([0-9a-f]{8}|[0-9a-f]{32})$/.test(hex)) return { kind: 'invalid' };
    const address = new Uint8Array(hex.length / 2);
    for (let i = 0; i < address.length; i++) address[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return { kind: 'addr', address, datacenter: null };
  }
  if (kind !== 'service') return { kind: 'invalid' };

  if (query.length === 2 && query[0]!.startsWith('_') && query[1]!.startsWith('_')) {
    const service = query[0]!.slice(1);
    const tag = query[1]!.slice(1);
    if (service === '') return { kind: 'invalid' };
    // `_tcp` is the RFC 2782 protocol label, not a tag: it means "any instance".
    return { kind: 'service', service, tag: tag === 'tcp' ? '' : tag, datacenter };
  }
  // Tags may contain dots, so every label before the service name is one tag.
  const service = query[query.length - 1]!;
  return { kind: 'service', service, tag: query.slice(0, -1).join('.'), datacenter };
}

/**
 * The address a reverse name asks about: `d.c.b.a.in-addr.arpa` → [a,b,c,d], 32 nibbles
 * under `ip6.arpa` → 16 bytes. null when the name is not under `arpa` at all; 'invalid'
 * for an arpa name that is no whole address (answered NXDOMAIN, as a name we hold nothing for).
 */
export function parseReverseName(labels: Uint8Array[]): Uint8Array | 'invalid' | null {
  const texts = labels.map(plainLabel);
  if (texts[texts.length - 1] !== 'arpa') return null;
  const zone = texts[texts.length - 2];
  const parts = texts.slice(0, -2);
  if (zone === 'in-addr' && parts.length === 4 && parts.every((p) => p !== null && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(p))) {
    return Uint8Array.from(parts.reverse().map(Number));
  }
  if (zone === 'ip6' && parts.length === 32 && parts.every((p) => p !== null && /^[0-9a-f]$/.test(p))) {
    const nibbles = parts.reverse().map((p) => parseInt(p!, 16));
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = (nibbles[2 * i]! << 4) | nibbles[2 * i + 1]!;
    return out;
  }
  return 'invalid';
}
