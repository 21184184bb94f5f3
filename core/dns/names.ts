// core/dns/names.ts — what a query name asks for, in Consul's DNS grammar.
//
// Owns: parsing `[tag.]NAME.service[.DC].<domain>`, RFC 2782 `_NAME._TAG.service[.DC].<domain>`
// and `NODE.node[.DC].<domain>`, case-insensitively, into a lookup.
// Must never: consult the catalog; existence is the answerer's business.

export type Lookup =
  | { kind: 'service'; service: string; tag: string; datacenter: string | null }
  | { kind: 'node'; node: string; datacenter: string | null }
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
  if (words[end - 1] !== 'service' && words[end - 1] !== 'node') {
    datacenter = words[end - 1]!;
    end--;
  }
  if (end < 2) return { kind: 'invalid' };
  const kind = words[end - 1];
  const query = words.slice(0, end - 1);

  if (kind === 'node') return { kind: 'node', node: query.join('.'), datacenter };
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
