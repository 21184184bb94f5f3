// core/config/json.ts — a strict JSON (RFC 8259) parser producing the positioned tree of tree.ts.
//
// Owns: JSON config files (and HCL files that start with `{`, as HCL itself does): objects,
// arrays, strings with every JSON escape (surrogate pairs checked), numbers, true/false/null;
// a leading byte-order mark is skipped. Duplicate keys are kept so the decoder can refuse them.
// Must never: throw on any input or recurse without bound; every problem is one ConfigError
// with file:line:col. (JSON.parse is not used: it loses positions and silently keeps the last
// of two duplicate keys.)
import { ConfigError, quote, type CEntry, type CObject, type CValue, type Pos } from './tree.ts';

export const MAX_JSON_DEPTH = 64;

export function parseJsonTree(text: string, file: string): { ok: true; body: CObject } | { ok: false; error: ConfigError } {
  try {
    const p = new JsonParser(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, file);
    p.ws();
    if (p.atEnd()) p.fail(p.pos(), 'the file is empty; a JSON config file holds one object, e.g. {}');
    const v = p.value(0);
    p.ws();
    if (!p.atEnd()) p.fail(p.pos(), `unexpected ${p.peekText()} after the end of the top-level value`);
    if (v.kind !== 'object') return p.fail(v.pos, 'the file must hold a JSON object ({ … }) at the top level');
    return { ok: true, body: v };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, error: err };
    return { ok: false, error: new ConfigError(file, null, '', `cannot parse JSON: ${(err as Error).message}`) };
  }
}

class JsonParser {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly s: string,
    private readonly file: string,
  ) {}

  pos(): Pos {
    return { line: this.line, col: this.i - this.lineStart + 1 };
  }

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  fail(pos: Pos, reason: string): never {
    throw new ConfigError(this.file, pos, '', `invalid JSON: ${reason}`);
  }

  peekText(): string {
    if (this.atEnd()) return 'end of file';
    return quote(this.s.slice(this.i, this.i + 12), 12);
  }

  ws(): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '\n') {
        this.i++;
        this.line++;
        this.lineStart = this.i;
      } else if (c === ' ' || c === '\t' || c === '\r') this.i++;
      else return;
    }
  }

  value(depth: number): CValue {
    if (depth > MAX_JSON_DEPTH) this.fail(this.pos(), `nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.ws();
    const pos = this.pos();
    const c = this.s[this.i];
    if (c === undefined) this.fail(pos, 'unexpected end of file (a value was expected)');
    if (c === '{') return this.object(depth, pos);
    if (c === '[') {
      this.i++;
      const items: CValue[] = [];
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return { kind: 'list', items, pos };
      }
      for (;;) {
        items.push(this.value(depth + 1));
        this.ws();
        const d = this.s[this.i];
        if (d === ',') {
          this.i++;
          this.ws();
          if (this.s[this.i] === ']') this.fail(this.pos(), "trailing comma before ']' (JSON allows none)");
          continue;
        }
        if (d === ']') {
          this.i++;
          return { kind: 'list', items, pos };
        }
        if (d === undefined) this.fail(pos, "array '[' is never closed with ']'");
        this.fail(this.pos(), `expected ',' or ']' in the array, found ${this.peekText()}`);
      }
    }
    if (c === '"') return { kind: 'string', value: this.string(), pos };
    if (c === '-' || (c >= '0' && c <= '9')) return { kind: 'number', value: this.number(pos), pos };
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v === null ? { kind: 'null', pos } : { kind: 'bool', value: v, pos };
      }
    }
    if (c === "'") this.fail(pos, 'single quotes are not JSON strings; use double quotes');
    this.fail(pos, `unexpected ${this.peekText()} (a value was expected)`);
  }

  private object(depth: number, pos: Pos): CObject {
    this.i++;
    const entries: CEntry[] = [];
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return { kind: 'object', entries, pos };
    }
    for (;;) {
      this.ws();
      const keyPos = this.pos();
      if (this.s[this.i] !== '"') {
        if (this.atEnd()) this.fail(pos, "object '{' is never closed with '}'");
        if (this.s[this.i] === '}') this.fail(keyPos, "trailing comma before '}' (JSON allows none)");
        this.fail(keyPos, `expected a "quoted" key, found ${this.peekText()}`);
      }
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail(this.pos(), `expected ':' after key ${quote(key)}, found ${this.peekText()}`);
      this.i++;
      const value = this.value(depth + 1);
      entries.push({ key, keyPos, labels: [], block: false, value });
      this.ws();
      const d = this.s[this.i];
      if (d === ',') {
        this.i++;
        continue;
      }
      if (d === '}') {
        this.i++;
        return { kind: 'object', entries, pos };
      }
      if (d === undefined) this.fail(pos, "object '{' is never closed with '}'");
      this.fail(this.pos(), `expected ',' or '}' after the value of ${quote(key)}, found ${this.peekText()}`);
    }
  }

  private string(): string {
    const start = this.pos();
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail(start, 'string is never closed with "');
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\n') this.fail(start, 'string is not closed before the end of the line (write \\n for a newline)');
      if (c.charCodeAt(0) < 0x20) this.fail(this.pos(), 'control character inside a string (escape it, e.g. \\t)');
      if (c === '\\') {
        const e = this.s[this.i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          this.i += 2;
          continue;
        }
        if (e === 'u') {
          const unit = this.hex4();
          if (unit >= 0xd800 && unit <= 0xdbff && this.s[this.i] === '\\' && this.s[this.i + 1] === 'u') {
            const low = this.hex4();
            if (low < 0xdc00 || low > 0xdfff) this.fail(this.pos(), 'a \\u high surrogate must be followed by a low one');
            out += String.fromCharCode(unit, low);
          } else if (unit >= 0xd800 && unit <= 0xdfff) {
            this.fail(this.pos(), 'lone surrogate in a \\u escape');
          } else out += String.fromCharCode(unit);
          continue;
        }
        this.fail(this.pos(), `unknown escape \\${e === undefined ? '' : quote(e).slice(1, -1)} (use \\\\ for a backslash)`);
      }
      out += c;
      this.i++;
    }
  }

  private hex4(): number {
    const h = this.s.slice(this.i + 2, this.i + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail(this.pos(), 'escape \\u needs 4 hex digits');
    this.i += 6;
    return parseInt(h, 16);
  }

  private number(pos: Pos): number {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail(pos, `malformed number ${this.peekText()}`);
    this.i += m[0].length;
    const next = this.s[this.i];
    if (next !== undefined && /[0-9A-Za-z.]/.test(next)) this.fail(pos, `malformed number ${quote(m[0] + next)}`);
    const v = Number(m[0]);
    if (!Number.isFinite(v)) this.fail(pos, `number ${quote(m[0])} is out of range`);
    return v;
  }
}
