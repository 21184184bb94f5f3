// core/config/hcl.ts — a parser for HCL (version 1, the dialect Consul's config files and ACL
// rules are written in), producing the positioned tree of tree.ts.
//
// Owns: the HCL grammar — `key = value` attributes, `key { … }` blocks (repeatable), labelled
// blocks `key "label" { … }`, lists with trailing commas, object literals, double-quoted strings
// with Go escapes (and `${…}` kept verbatim), heredocs `<<EOF` / `<<-EOF`, numbers (decimal,
// float, exponent, hex, leading minus), bools, and `#`, `//`, `/* */` comments. A file whose
// first token is `{` is JSON, as in HCL itself.
// Must never: throw on any input, recurse without bound, or evaluate anything. Every problem is
// returned as one ConfigError with file:line:col.
//
// Grammar (newlines are whitespace except inside heredocs; commas between items are optional):
//   body   := (item ','?)* EOF
//   item   := key label* ( '=' value | '{' body '}' )        key, label := IDENT | STRING
//   value  := STRING | HEREDOC | NUMBER | 'true' | 'false' | list | '{' body '}'
//   list   := '[' ( value ( ',' value )* ','? )? ']'
import { ConfigError, quote, type CEntry, type CObject, type CValue, type Pos } from './tree.ts';
import { parseJsonTree } from './json.ts';

/** Deeper nesting than this is refused (hostile input must not exhaust the stack). */
export const MAX_DEPTH = 64;

type Tok =
  | { t: 'ident'; v: string; pos: Pos }
  | { t: 'string'; v: string; pos: Pos }
  | { t: 'heredoc'; v: string; pos: Pos }
  | { t: 'number'; v: number; pos: Pos }
  | { t: '{' | '}' | '[' | ']' | '=' | ','; pos: Pos }
  | { t: 'eof'; pos: Pos };

export type HclResult = { ok: true; body: CObject } | { ok: false; error: ConfigError };

/** Parse HCL text (never throws). `file` names the source in errors. */
export function parseHcl(text: string, file: string): HclResult {
  try {
    const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    if (/^\s*\{/.test(stripLeadingComments(src))) return parseJsonTree(src, file);
    const p = new Parser(new Lexer(src, file), file);
    return { ok: true, body: p.body(0, null) };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, error: err };
    // A parser bug must still not crash the agent: report it as a parse error of this file.
    return { ok: false, error: new ConfigError(file, null, '', `cannot parse HCL: ${(err as Error).message}`) };
  }
}

/** Parse an HCL string into plain data is toPlain(parseHcl(…).body) — see tree.ts. */

function stripLeadingComments(s: string): string {
  let i = 0;
  for (;;) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (s[i] === '#' || (s[i] === '/' && s[i + 1] === '/')) {
      while (i < s.length && s[i] !== '\n') i++;
    } else if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return s.slice(i);
      i = end + 2;
    } else return s.slice(i);
  }
}

const isIdentStart = (c: string): boolean => /[A-Za-z_]/.test(c) || c.charCodeAt(0) > 0x7f && /\p{L}/u.test(c);
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_\-.]/.test(c) || c.charCodeAt(0) > 0x7f && /[\p{L}\p{N}]/u.test(c);

class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly s: string,
    private readonly file: string,
  ) {}

  private pos(at = this.i): Pos {
    return { line: this.line, col: at - this.lineStart + 1 };
  }

  private fail(pos: Pos, reason: string): never {
    throw new ConfigError(this.file, pos, '', reason);
  }

  private newline(): void {
    this.line++;
    this.lineStart = this.i;
  }

  next(): Tok {
    this.skipSpace();
    const s = this.s;
    if (this.i >= s.length) return { t: 'eof', pos: this.pos() };
    const c = s[this.i]!;
    const pos = this.pos();
    if ('{}[]=,'.includes(c)) {
      this.i++;
      return { t: c as '{', pos };
    }
    if (c === '"') return { t: 'string', v: this.string(pos), pos };
    if (c === '<' && s[this.i + 1] === '<') return { t: 'heredoc', v: this.heredoc(pos), pos };
    if (/[0-9]/.test(c) || (c === '-' && /[0-9.]/.test(s[this.i + 1] ?? '')) || (c === '.' && /[0-9]/.test(s[this.i + 1] ?? ''))) {
      return { t: 'number', v: this.number(pos), pos };
    }
    if (isIdentStart(c)) {
      const start = this.i;
      while (this.i < s.length && isIdentPart(s[this.i]!)) this.i++;
      return { t: 'ident', v: s.slice(start, this.i), pos };
    }
    if (c === "'") this.fail(pos, "single quotes are not HCL strings; use double quotes");
    if (c === ':') this.fail(pos, "unexpected ':'; HCL assigns with '=' (key = value)");
    this.fail(pos, `unexpected character ${quote(c)}`);
  }

  private skipSpace(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === '\n') {
        this.i++;
        this.newline();
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        this.i++;
      } else if (c === '#' || (c === '/' && s[this.i + 1] === '/')) {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === '/' && s[this.i + 1] === '*') {
        const pos = this.pos();
        this.i += 2;
        for (;;) {
          if (this.i >= s.length) this.fail(pos, 'comment /* is never closed with */');
          if (s[this.i] === '*' && s[this.i + 1] === '/') {
            this.i += 2;
            break;
          }
          if (s[this.i] === '\n') {
            this.i++;
            this.newline();
          } else this.i++;
        }
      } else if (c === '/') {
        this.fail(this.pos(), "unexpected '/'; comments start with // or /*");
      } else return;
    }
  }

  private number(pos: Pos): number {
    const rest = this.s.slice(this.i);
    const hex = /^-?0[xX][0-9a-fA-F]+/.exec(rest);
    const dec = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(rest);
    const m = hex ?? dec;
    if (!m) this.fail(pos, 'malformed number');
    const text = m[0];
    this.i += text.length;
    if (this.i < this.s.length && isIdentPart(this.s[this.i]!) && this.s[this.i] !== '-') {
      this.fail(pos, `malformed number ${quote(text + this.s[this.i])}; quote it if it is a string`);
    }
    if (!hex && /^-?0\d*[89]/.test(text) && !/[.eE]/.test(text)) this.fail(pos, `malformed octal number ${quote(text)}`);
    let v: number;
    if (hex) v = (text.startsWith('-') ? -1 : 1) * parseInt(text.replace(/^-?0[xX]/, ''), 16);
    else if (/^-?0\d+$/.test(text)) v = (text.startsWith('-') ? -1 : 1) * parseInt(text.replace(/^-?0/, ''), 8);
    else v = Number(text);
    if (!Number.isFinite(v)) this.fail(pos, `number ${quote(text)} is out of range`);
    return v;
  }

  /** A double-quoted string; `${ … }` may contain quotes and is kept as written. */
  private string(pos: Pos): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let braces = 0;
    for (;;) {
      if (this.i >= s.length) this.fail(pos, 'string is never closed with "');
      const c = s[this.i]!;
      if (c === '\n') this.fail(pos, 'string is not closed before the end of the line (use a heredoc <<EOF for several lines)');
      if (braces > 0) {
        if (c === '{') braces++;
        else if (c === '}') braces--;
        out += c;
        this.i++;
        continue;
      }
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '$' && s[this.i + 1] === '{') {
        braces = 1;
        out += '${';
        this.i += 2;
        continue;
      }
      if (c === '\\') {
        out += this.escape();
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private escape(): string {
    const s = this.s;
    const pos = this.pos();
    const e = s[this.i + 1];
    this.i += 2;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (e !== undefined && simple[e] !== undefined) return simple[e]!;
    const hexDigits = (n: number, what: string): number => {
      const h = s.slice(this.i, this.i + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) this.fail(pos, `escape \\${what} needs ${n} hex digits`);
      this.i += n;
      return parseInt(h, 16);
    };
    if (e === 'x') return String.fromCharCode(hexDigits(2, 'x'));
    if (e === 'u' || e === 'U') {
      const cp = hexDigits(e === 'u' ? 4 : 8, e);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(pos, `escape \\${e} names an invalid code point`);
      return String.fromCodePoint(cp);
    }
    if (e !== undefined && /[0-7]/.test(e)) {
      const o = s.slice(this.i - 1, this.i + 2);
      if (!/^[0-7]{3}$/.test(o)) this.fail(pos, 'octal escape needs 3 digits (e.g. \\101)');
      this.i += 2;
      const v = parseInt(o, 8);
      if (v > 255) this.fail(pos, 'octal escape is above \\377');
      return String.fromCharCode(v);
    }
    this.fail(pos, `unknown escape \\${e === undefined ? '' : oneChar(e)} (use \\\\ for a backslash)`);
  }

  /** `<<EOF` … `EOF` (terminator alone on its line), or `<<-EOF` with the indentation removed. */
  private heredoc(pos: Pos): string {
    const s = this.s;
    this.i += 2;
    const indent = s[this.i] === '-';
    if (indent) this.i++;
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(s.slice(this.i));
    if (!m) this.fail(pos, 'heredoc needs a marker name right after << (e.g. <<EOF)');
    const marker = m[0];
    this.i += marker.length;
    const eol = s.indexOf('\n', this.i);
    if (eol < 0 || s.slice(this.i, eol).trim().replace(/\r$/, '') !== '') {
      this.fail(pos, `heredoc <<${indent ? '-' : ''}${marker} must end its line; the text starts on the next line`);
    }
    this.i = eol + 1;
    this.newline();
    const lines: string[] = [];
    for (;;) {
      if (this.i >= s.length) this.fail(pos, `heredoc is never closed with a line holding only ${marker}`);
      let end = s.indexOf('\n', this.i);
      if (end < 0) end = s.length;
      const raw = s.slice(this.i, end);
      const lineText = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const closes = indent ? lineText.trim() === marker : lineText === marker;
      this.i = end;
      if (closes) break;
      lines.push(lineText);
      if (this.i < s.length) {
        this.i++;
        this.newline();
      }
    }
    if (indent) {
      const widths = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
      const cut = widths.length > 0 ? Math.min(...widths) : 0;
      return lines.map((l) => l.slice(Math.min(cut, /^[ \t]*/.exec(l)![0].length))).join('\n') + (lines.length > 0 ? '\n' : '');
    }
    return lines.join('\n') + (lines.length > 0 ? '\n' : '');
  }
}

function oneChar(c: string): string {
  return /[\x20-\x7e]/.test(c) ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

class Parser {
  private tok: Tok;

  constructor(
    private readonly lex: Lexer,
    private readonly file: string,
  ) {
    this.tok = lex.next();
  }

  /** The current token (a method, so narrowing does not outlive a call that advances). */
  private peek(): Tok {
    return this.tok;
  }

  private advance(): Tok {
    const t = this.tok;
    this.tok = this.lex.next();
    return t;
  }

  private fail(pos: Pos, reason: string): never {
    throw new ConfigError(this.file, pos, '', reason);
  }

  private describe(t: Tok): string {
    switch (t.t) {
      case 'eof':
        return 'the end of the file';
      case 'ident':
        return `${quote(t.v)}`;
      case 'string':
        return `the string ${quote(t.v)}`;
      case 'heredoc':
        return 'a heredoc';
      case 'number':
        return `the number ${t.v}`;
      default:
        return `'${t.t}'`;
    }
  }

  /** Items until `}` (nested: open is the `{` position) or the end of the file (top level). */
  body(depth: number, open: Pos | null): CObject {
    if (depth > MAX_DEPTH) this.fail(open ?? this.tok.pos, `nested deeper than ${MAX_DEPTH} levels`);
    const entries: CEntry[] = [];
    const pos = open ?? { line: 1, col: 1 };
    for (;;) {
      const t = this.tok;
      if (t.t === 'eof') {
        if (open) this.fail(open, "block '{' is never closed with '}'");
        return { kind: 'object', entries, pos };
      }
      if (t.t === '}') {
        if (!open) this.fail(t.pos, "unexpected '}' with no open block");
        this.advance();
        return { kind: 'object', entries, pos };
      }
      if (t.t === ',') {
        this.advance();
        continue;
      }
      entries.push(this.item(depth));
    }
  }

  private item(depth: number): CEntry {
    const k = this.advance();
    if (k.t !== 'ident' && k.t !== 'string') {
      this.fail(k.pos, `expected a key (a name or "quoted name"), found ${this.describe(k)}`);
    }
    const labels: CEntry['labels'] = [];
    while (this.tok.t === 'ident' || this.tok.t === 'string') {
      const l = this.advance() as { v: string; pos: Pos };
      labels.push({ value: l.v, pos: l.pos });
    }
    if (this.tok.t === '{') {
      const open = this.advance().pos;
      return { key: k.v, keyPos: k.pos, labels, block: true, value: this.body(depth + 1, open) };
    }
    if (this.tok.t === '=') {
      if (labels.length > 0) {
        this.fail(labels[0]!.pos, `key ${quote(k.v)} is followed by ${quote(labels[0]!.value)}; labels belong to a block (key "label" { … }), or did you forget '='?`);
      }
      this.advance();
      return { key: k.v, keyPos: k.pos, labels, block: false, value: this.value(depth + 1) };
    }
    this.fail(this.tok.pos, `expected '=' or '{' after key ${quote(k.v)}, found ${this.describe(this.tok)}`);
  }

  private value(depth: number): CValue {
    if (depth > MAX_DEPTH) this.fail(this.tok.pos, `nested deeper than ${MAX_DEPTH} levels`);
    const t = this.advance();
    switch (t.t) {
      case 'string':
      case 'heredoc':
        return { kind: 'string', value: t.v, pos: t.pos };
      case 'number':
        return { kind: 'number', value: t.v, pos: t.pos };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { kind: 'bool', value: t.v === 'true', pos: t.pos };
        if (t.v === 'null') return { kind: 'null', pos: t.pos };
        return this.fail(t.pos, `unquoted value ${quote(t.v)}; strings need double quotes ("${t.v}")`);
      case '{':
        return this.body(depth + 1, t.pos);
      case '[': {
        const items: CValue[] = [];
        for (;;) {
          if (this.tok.t === ']') {
            this.advance();
            return { kind: 'list', items, pos: t.pos };
          }
          if (this.tok.t === 'eof') this.fail(t.pos, "list '[' is never closed with ']'");
          items.push(this.value(depth + 1));
          const after = this.peek();
          if (after.t === ',') this.advance();
          else if (after.t !== ']') this.fail(after.pos, `expected ',' or ']' in the list, found ${this.describe(after)}`);
        }
      }
      default:
        return this.fail(t.pos, `expected a value, found ${this.describe(t)}`);
    }
  }
}
