// core/filter/bexpr.ts — Consul's `?filter=` expression language (hashicorp/go-bexpr).
//
// Owns: parsing an expression into a tree (or an error naming the position and what was
// expected), checking its selectors against a record schema (fields.ts), and evaluating it
// against one record (a plain object in Consul's field names).
// Must never: throw anything but FilterError from parse/check, or throw at all from evaluate;
// execute anything from the expression other than the regular expressions of `matches`.
//
// Grammar (go-bexpr's, as Consul documents it):
//   expr     := or;   or := and ("or" and)*;   and := unary ("and" unary)*
//   unary    := "not" unary | "(" expr ")" | match
//   match    := selector ("==" | "!=") value | selector "is" ["not"] "empty"
//             | value ["not"] "in" selector | selector ["not"] "contains" value
//             | selector ["not"] "matches" value
//   selector := ident ("." ident | "[" string "]")*
//   value    := "double quoted" | `raw` | number | true | false | bare-word
import { type FieldType, type Schema } from './fields.ts';

export class FilterError extends Error {}

export type MatchOp = '==' | '!=' | 'is empty' | 'is not empty' | 'in' | 'not in' | 'contains' | 'not contains' | 'matches' | 'not matches';

export type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'match'; op: MatchOp; selector: string[]; value: string; regex?: RegExp };

interface Token {
  kind: 'word' | 'string' | 'op' | '(' | ')' | '.' | '[' | ']' | 'end';
  text: string;
  /** Offset in the expression (bytes of ASCII, characters otherwise). */
  at: number;
}

const WORD = /[A-Za-z0-9_\-/:+]/;

function where(src: string, at: number): string {
  const before = src.slice(0, at);
  const line = before.split('\n').length;
  const col = at - before.lastIndexOf('\n');
  return `${line}:${col} (${at})`;
}

function fail(src: string, at: number, what: string): never {
  throw new FilterError(`Failed to create boolean expression evaluator: ${where(src, at)}: ${what}`);
}

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '"' || c === '`') {
      let text = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (c === '"' && src[i] === '\\' && i + 1 < src.length) {
          const n = src[i + 1]!;
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
          continue;
        }
        text += src[i++];
      }
      if (i >= src.length) fail(src, at, `unterminated ${c === '"' ? 'quoted' : 'raw'} string; close it with ${c}`);
      i++;
      out.push({ kind: 'string', text, at });
      continue;
    }
    if (src.startsWith('==', i) || src.startsWith('!=', i)) {
      out.push({ kind: 'op', text: src.slice(i, i + 2), at });
      i += 2;
      continue;
    }
    if ('().[]'.includes(c)) {
      out.push({ kind: c as Token['kind'], text: c, at });
      i++;
      continue;
    }
    if (WORD.test(c)) {
      let j = i;
      while (j < src.length && WORD.test(src[j]!)) j++;
      out.push({ kind: 'word', text: src.slice(i, j), at });
      i = j;
      continue;
    }
    fail(src, at, `unexpected character ${JSON.stringify(c)}`);
  }
  out.push({ kind: 'end', text: '', at: src.length });
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'empty', 'contains', 'matches']);
const isKeyword = (t: Token, w: string): boolean => t.kind === 'word' && t.text.toLowerCase() === w;

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private expected(what: string): never {
    const t = this.peek();
    fail(this.src, t.at, `expected ${what}, found ${t.kind === 'end' ? 'the end of the expression' : JSON.stringify(t.text)}`);
  }

  parse(): Expr {
    if (this.peek().kind === 'end') this.expected('an expression');
    const e = this.or();
    if (this.peek().kind !== 'end') this.expected('"and", "or" or the end of the expression');
    return e;
  }

  /** `or` binds loosest, then `and`: each is a left-leaning chain of the tighter level. */
  private chain(kind: 'and' | 'or', operand: () => Expr): Expr {
    let left = operand();
    while (isKeyword(this.peek(), kind)) {
      this.next();
      left = { kind, left, right: operand() };
    }
    return left;
  }

  private or(): Expr {
    return this.chain('or', () => this.chain('and', () => this.unary()));
  }

  private unary(): Expr {
    const t = this.peek();
    if (isKeyword(t, 'not')) {
      this.next();
      return { kind: 'not', expr: this.unary() };
    }
    if (t.kind === '(') {
      this.next();
      const e = this.or();
      if (this.peek().kind !== ')') this.expected('")"');
      this.next();
      return e;
    }
    return this.match();
  }

  /** A selector, or (before `in`) a bare-word value that looked like one. */
  private selector(): { path: string[]; text: string } {
    const first = this.peek();
    if (first.kind !== 'word' || KEYWORDS.has(first.text.toLowerCase())) this.expected('a selector such as Service.Tags or NodeMeta.env');
    this.next();
    const path = [first.text];
    for (;;) {
      const t = this.peek();
      if (t.kind === '.') {
        this.next();
        const id = this.next();
        if (id.kind !== 'word') {
          this.i--;
          this.expected('a field name after "."');
        }
        path.push(id.text);
      } else if (t.kind === '[') {
        this.next();
        const key = this.next();
        if (key.kind !== 'string') {
          this.i--;
          this.expected('a quoted map key inside [ ]');
        }
        if (this.peek().kind !== ']') this.expected('"]"');
        this.next();
        path.push(key.text);
      } else break;
    }
    return { path, text: this.src.slice(first.at, this.peek().at).trim() };
  }

  private value(): string {
    const t = this.peek();
    if (t.kind === 'string' || (t.kind === 'word' && !KEYWORDS.has(t.text.toLowerCase()))) {
      this.next();
      return t.text;
    }
    return this.expected('a value (a "quoted string", a number, true or false)');
  }

  /** Consumes a `not` if one comes next. */
  private optionalNot(): boolean {
    if (!isKeyword(this.peek(), 'not')) return false;
    this.next();
    return true;
  }

  private keyword(word: string, what: string): void {
    if (!isKeyword(this.peek(), word)) this.expected(what);
    this.next();
  }

  private match(): Expr {
    const t = this.peek();
    // `"value" in Selector` / `value not in Selector`
    const valueFirst =
      t.kind === 'string' ||
      (t.kind === 'word' && (isKeyword(this.peek(1), 'in') || (isKeyword(this.peek(1), 'not') && isKeyword(this.peek(2), 'in'))));
    if (valueFirst) {
      const value = this.value();
      const op: MatchOp = this.optionalNot() ? 'not in' : 'in';
      this.keyword('in', '"in" or "not in" after a value');
      return { kind: 'match', op, selector: this.selector().path, value };
    }
    const { path } = this.selector();
    const o = this.peek();
    if (o.kind === 'op') {
      this.next();
      return { kind: 'match', op: o.text as '==' | '!=', selector: path, value: this.value() };
    }
    if (isKeyword(o, 'is')) {
      this.next();
      const op: MatchOp = this.optionalNot() ? 'is not empty' : 'is empty';
      this.keyword('empty', '"empty" after "is" / "is not"');
      return { kind: 'match', op, selector: path, value: '' };
    }
    const negate = this.optionalNot();
    const w = this.peek();
    if (isKeyword(w, 'contains') || isKeyword(w, 'matches')) {
      this.next();
      const base = w.text.toLowerCase() as 'contains' | 'matches';
      const valueAt = this.peek().at;
      const value = this.value();
      const m: Expr = { kind: 'match', op: (negate ? `not ${base}` : base) as MatchOp, selector: path, value };
      if (base === 'matches') {
        try {
          m.regex = new RegExp(value, 'u');
        } catch (e) {
          fail(this.src, valueAt, `invalid regular expression ${JSON.stringify(value)}: ${(e as Error).message}`);
        }
      }
      return m;
    }
    return this.expected(negate ? '"contains", "matches" or "in" after "not"' : 'an operator: ==, !=, is empty, is not empty, contains, not contains, matches, not matches');
  }
}

/** Which operators each field type accepts (go-bexpr's table). */
const OPS: Record<FieldType['kind'], readonly MatchOp[]> = {
  string: ['==', '!=', 'is empty', 'is not empty', 'in', 'not in', 'matches', 'not matches'],
  number: ['==', '!='],
  bool: ['==', '!='],
  list: ['is empty', 'is not empty', 'in', 'not in', 'contains', 'not contains'],
  map: ['is empty', 'is not empty', 'in', 'not in', 'contains', 'not contains'],
  struct: [],
};

/** The type a selector reaches, and whether it went through a list of records. */
function typeAt(schema: Schema, path: string[]): { type: FieldType; throughList: boolean } | null {
  let type: FieldType = { kind: 'struct', fields: schema };
  let throughList = false;
  for (const part of path) {
    if (type.kind === 'list' && type.of.kind === 'struct') {
      throughList = true;
      type = type.of;
    }
    if (type.kind === 'map') {
      type = { kind: 'string' };
      continue;
    }
    if (type.kind !== 'struct') return null;
    const fields: Schema = type.fields;
    const name = Object.keys(fields).find((k) => k === part) ?? Object.keys(fields).find((k) => k.toLowerCase() === part.toLowerCase());
    if (name === undefined) return null;
    type = fields[name]!;
  }
  return { type, throughList };
}

/** Parses `src` and checks it against the records it will filter; throws FilterError. */
export function compileFilter(src: string, schema: Schema): Expr {
  if (src.length > 4096) throw new FilterError(`Failed to create boolean expression evaluator: the expression is ${src.length} characters; keep it under 4096`);
  const expr = new Parser(src, lex(src)).parse();
  const check = (e: Expr): void => {
    if (e.kind === 'and' || e.kind === 'or') {
      check(e.left);
      check(e.right);
    } else if (e.kind === 'not') check(e.expr);
    else if (e.kind === 'match') {
      const sel = e.selector.join('.');
      const t = typeAt(schema, e.selector);
      if (!t) throw new FilterError(`Failed to create boolean expression evaluator: Selector ${JSON.stringify(sel)} is not valid`);
      // A field reached through a list of records (Checks.Status) matches when any element does.
      const kind = t.throughList && (e.op === 'in' || e.op === 'not in' || e.op === 'contains' || e.op === 'not contains') ? 'list' : t.type.kind;
      if (!OPS[kind].includes(e.op) && !(t.throughList && OPS[t.type.kind].includes(e.op))) {
        throw new FilterError(`Failed to create boolean expression evaluator: Invalid match operator "${e.op}" for selector ${JSON.stringify(sel)}`);
      }
      if (t.type.kind === 'number' && !Number.isFinite(Number(e.value))) {
        throw new FilterError(`Failed to create boolean expression evaluator: Selector ${JSON.stringify(sel)} is a number; ${JSON.stringify(e.value)} is not one`);
      }
      if (t.type.kind === 'bool' && !['true', 'false'].includes(e.value.toLowerCase())) {
        throw new FilterError(`Failed to create boolean expression evaluator: Selector ${JSON.stringify(sel)} is true or false; ${JSON.stringify(e.value)} is neither`);
      }
    }
  };
  check(expr);
  return expr;
}

/** The values a selector reaches in a record: one, or one per list element on the way. */
function resolve(record: unknown, path: string[]): { values: unknown[]; multi: boolean } {
  let current: unknown[] = [record];
  let multi = false;
  for (const part of path) {
    const next: unknown[] = [];
    for (const v of current) {
      const items = Array.isArray(v) && path.length > 0 ? ((multi = true), v) : [v];
      for (const item of items) {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
        const obj = item as Record<string, unknown>;
        const key = part in obj ? part : Object.keys(obj).find((k) => k.toLowerCase() === part.toLowerCase());
        if (key !== undefined && obj[key] !== undefined) next.push(obj[key]);
        else if (key === undefined) next.push(undefined);
      }
    }
    current = next;
  }
  return { values: current, multi };
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

function equal(v: unknown, want: string): boolean {
  if (typeof v === 'number') return v === Number(want);
  if (typeof v === 'boolean') return v === (want.toLowerCase() === 'true');
  return typeof v === 'string' && v === want;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function holds(v: unknown, want: string): boolean {
  if (Array.isArray(v)) return v.some((x) => equal(x, want));
  if (v !== null && typeof v === 'object') return Object.prototype.hasOwnProperty.call(v, want);
  return typeof v === 'string' && v.includes(want);
}

function matchOne(e: Extract<Expr, { kind: 'match' }>, record: unknown): boolean {
  const { values, multi } = resolve(record, e.selector);
  const value = multi ? values : values[0];
  switch (e.op) {
    case '==':
      return multi ? values.some((x) => equal(x, e.value)) : equal(value, e.value);
    case '!=':
      return multi ? !values.some((x) => equal(x, e.value)) : !equal(value, e.value);
    case 'is empty':
      return isEmpty(value);
    case 'is not empty':
      return !isEmpty(value);
    case 'in':
    case 'contains':
      return holds(value, e.value);
    case 'not in':
    case 'not contains':
      return !holds(value, e.value);
    case 'matches':
      return multi ? values.some((x) => e.regex!.test(asText(x))) : e.regex!.test(asText(value));
    case 'not matches':
      return multi ? !values.some((x) => e.regex!.test(asText(x))) : !e.regex!.test(asText(value));
  }
}

export function evaluateFilter(e: Expr, record: unknown): boolean {
  switch (e.kind) {
    case 'and':
      return evaluateFilter(e.left, record) && evaluateFilter(e.right, record);
    case 'or':
      return evaluateFilter(e.left, record) || evaluateFilter(e.right, record);
    case 'not':
      return !evaluateFilter(e.expr, record);
    case 'match':
      return matchOne(e, record);
  }
}
