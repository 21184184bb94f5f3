// core/config/tree.ts — the parsed shape of a config file (JSON or HCL), with positions.
//
// Owns: the value tree both parsers produce (every value and every key knows its line and
// column), the ConfigError every config problem becomes (one line: file, position, key,
// why), and the helpers that quote hostile input safely inside such a line.
// Must never: know any config key; meaning lives in schema.ts and decode.ts.

export interface Pos {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units from the start of the line. */
  col: number;
}

export type CValue =
  | { kind: 'string'; value: string; pos: Pos }
  | { kind: 'number'; value: number; pos: Pos }
  | { kind: 'bool'; value: boolean; pos: Pos }
  | { kind: 'null'; pos: Pos }
  | { kind: 'list'; items: CValue[]; pos: Pos }
  | CObject;

export interface CObject {
  kind: 'object';
  /** In source order; a key may appear more than once (repeated HCL blocks, duplicate JSON keys). */
  entries: CEntry[];
  pos: Pos;
}

export interface CEntry {
  key: string;
  keyPos: Pos;
  /** HCL block labels (`service "web" { … }` → ['web']); always [] in JSON. */
  labels: Array<{ value: string; pos: Pos }>;
  /** True for HCL `key { … }` (a block), false for `key = value` and for JSON. */
  block: boolean;
  value: CValue;
}

/** A config problem: always one line, `file:line:col: key: reason`. */
export class ConfigError extends Error {
  constructor(
    /** File name, or 'command line' for a flag. */
    readonly file: string,
    readonly pos: Pos | null,
    /** Dotted key path as the user spelled it, e.g. 'dns_config.udp_answer_limit'; '' when none. */
    readonly key: string,
    readonly reason: string,
  ) {
    super(formatProblem(file, pos, key, reason));
    this.name = 'ConfigError';
  }
}

export function formatProblem(file: string, pos: Pos | null, key: string, reason: string): string {
  const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
  return oneLine(`${where ? `${where}: ` : ''}${key ? `${key}: ` : ''}${reason}`);
}

/** Newlines or control characters from hostile input must never split the one-line error. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A bounded, quoted rendering of user input for an error message. */
export function quote(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return oneLine(JSON.stringify(cut));
}

/** How a value reads in an error ("a string", "the number 3"…). */
export function describeValue(v: CValue): string {
  switch (v.kind) {
    case 'string':
      return `the string ${quote(v.value)}`;
    case 'number':
      return `the number ${v.value}`;
    case 'bool':
      return String(v.value);
    case 'null':
      return 'null';
    case 'list':
      return 'a list';
    case 'object':
      return 'an object/block';
  }
}

/** The tree as plain JSON-like data (what JSON.parse would give), for consumers that want values only.
 *  Repeated keys become a list of their values when all are objects (HCL repeated blocks), and
 *  blocks keep HCL's nesting for labels (`a "b" { … }` → { a: { b: { … } } }). */
export function toPlain(v: CValue): unknown {
  switch (v.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return v.value;
    case 'null':
      return null;
    case 'list':
      return v.items.map(toPlain);
    case 'object': {
      const out: Record<string, unknown> = {};
      const groups = new Map<string, unknown[]>();
      for (const e of v.entries) {
        let value = toPlain(e.value);
        for (let i = e.labels.length - 1; i >= 0; i--) value = { [e.labels[i]!.value]: value };
        const g = groups.get(e.key);
        if (g) g.push(value);
        else groups.set(e.key, [value]);
      }
      for (const [k, vals] of groups) out[k] = vals.length === 1 ? vals[0] : vals;
      return out;
    }
  }
}
