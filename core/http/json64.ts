// core/http/json64.ts — JSON text with integers beyond 2^53, both ways.
//
// Owns: a JSON parser that keeps integers outside the safe range as bigint (JSON.parse would
// round 3304740253564472344 to 3304740253564472000), and a serialiser that prints bigint as
// bare digits and otherwise writes exactly what JSON.stringify writes (same spacing for
// `pretty`, same escapes), so Consul's uint64 fields (KV Flags) round-trip.
// Must never: throw anything but a SyntaxError naming the offset, or recurse without bound
// (nesting is capped).
//
// Node 20 has neither JSON.rawJSON nor the reviver's source text, hence this file.

const MAX_DEPTH = 512;

export function parseJson64(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail('JSON nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        out[k] = value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    const n = Number(m[0]);
    if (m[2] === undefined && m[3] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  };
  const str = (): string => {
    const start = i;
    i++;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\\') i++;
      else if (ch === '"') break;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('bad string');
    }
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('unexpected text after the JSON value');
  return v;
}

/** JSON.stringify's output, except that bigint values print as bare integers. */
export function stringifyJson64(value: unknown, indent = 0): string | undefined {
  const pad = ' '.repeat(indent);
  const go = (v: unknown, lead: string, depth: number): string | undefined => {
    if (depth > MAX_DEPTH) throw new TypeError('JSON value nested too deeply');
    if (typeof v === 'bigint') return v.toString();
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    const inner = lead + pad;
    const sep = indent ? `,\n${inner}` : ',';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const parts = v.map((x) => go(x, inner, depth + 1) ?? 'null');
      return indent ? `[\n${inner}${parts.join(sep)}\n${lead}]` : `[${parts.join(',')}]`;
    }
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const s = go(x, inner, depth + 1);
      if (s !== undefined) parts.push(`${JSON.stringify(k)}:${indent ? ' ' : ''}${s}`);
    }
    if (parts.length === 0) return '{}';
    return indent ? `{\n${inner}${parts.join(sep)}\n${lead}}` : `{${parts.join(',')}}`;
  };
  return go(value, '', 0);
}
