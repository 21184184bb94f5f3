// core/config/decode.ts — one parsed config file (JSON or HCL tree) → a Fragment of typed
// settings, each remembering where it was set.
//
// Owns: applying the key table (schema.ts) to a file: key matching (case-insensitive, as
// Consul's decoder does), type checks, refusals, deprecated spellings (within a file the new
// key wins), HCL's block forms (a single `ports { … }` block is the object; repeated `service`,
// `check`, `checks`, `services` and `watches` blocks are lists), and handing service, check and
// watch bodies to their parsers with positions for their errors.
// Must never: throw anything but ConfigError, or merge files (merge.ts does).
import { parseGoDuration } from '../http/duration.ts';
import { DefinitionError, parseConfigCheck, parseConfigService, type CheckDefinition, type ServiceDefinition } from '../agent/definitions.ts';
import { AGENT_SCHEMA, isStruct, type Leaf, type Schema } from './schema.ts';
import { ConfigError, describeValue, quote, type CEntry, type CObject, type CValue, type Pos } from './tree.ts';
import { parseWatch, WatchProblem, type WatchDefinition } from './watches.ts';

export interface Origin {
  /** File name, or 'command line'. */
  file: string;
  pos: Pos | null;
  /** The key as the user spelled it ('dns_config.node_ttl', or '-node' for a flag). */
  key: string;
}

export type Setting =
  | { kind: 'scalar'; value: string | number | boolean; origin: Origin }
  | { kind: 'list'; items: Array<{ value: unknown; origin: Origin }> }
  | { kind: 'map'; value: Record<string, unknown>; origin: Origin };

/** Canonical dotted path ('dns_config.node_ttl', 'services') → setting. */
export type Fragment = Map<string, Setting>;

export interface DecodedFile {
  fragment: Fragment;
  warnings: string[];
}

export const originText = (o: Origin): string => (o.pos ? `${o.file}:${o.pos.line}:${o.pos.col}` : o.file);

/** Decode one file's tree. Throws ConfigError naming file:line:col and the key. */
export function decodeFile(file: string, body: CObject): DecodedFile {
  const d = new Decoder(file);
  d.walk(body, AGENT_SCHEMA, '', '');
  d.applyAliases();
  return { fragment: d.fragment, warnings: d.warnings };
}

interface Alias {
  to: string;
  setting: Setting;
}

class Decoder {
  readonly fragment: Fragment = new Map();
  readonly warnings: string[] = [];
  private readonly aliases: Alias[] = [];

  constructor(private readonly file: string) {}

  fail(pos: Pos | null, key: string, reason: string): never {
    throw new ConfigError(this.file, pos, key, reason);
  }

  walk(obj: CObject, schema: Schema, canon: string, spelled: string): void {
    const groups = new Map<string, CEntry[]>();
    const lowerToKey = new Map(Object.keys(schema).map((k) => [k.toLowerCase(), k]));
    for (const e of obj.entries) {
      const at = spelled ? `${spelled}.${e.key}` : e.key;
      const name = lowerToKey.get(e.key.toLowerCase());
      if (name === undefined) this.fail(e.keyPos, at, `invalid config key${suggest(e.key, Object.keys(schema))}`);
      if (e.labels.length > 0) {
        this.fail(e.labels[0]!.pos, at, `this block takes no label (remove ${quote(e.labels[0]!.value)})`);
      }
      const g = groups.get(name);
      if (g) g.push(e);
      else groups.set(name, [e]);
    }
    for (const [name, entries] of groups) {
      const spec = schema[name]!;
      // `service` and `services` (and `check`/`checks`) fill one list, in file order.
      const path = canon ? `${canon}.${name}` : name === 'service' ? 'services' : name === 'check' ? 'checks' : name;
      const first = entries[0]!;
      const at = spelled ? `${spelled}.${first.key}` : first.key;
      const listLike = !isStruct(spec) && (spec.leaf === 'services' || spec.leaf === 'checks' || spec.leaf === 'watches');
      if (entries.length > 1 && !listLike) {
        const again = entries[1]!;
        this.fail(again.keyPos, at, `set twice in this file (also at line ${first.keyPos.line}, column ${first.keyPos.col}); set it once`);
      }
      if (isStruct(spec)) {
        const v = single(first.value);
        if (v.kind !== 'object') this.fail(v.pos, at, `must be a block/object of settings, got ${describeValue(v)}`);
        if (spec.refused && v.entries.length > 0) this.fail(first.keyPos, at, `not supported: ${spec.refused}`);
        this.walk(v, spec.fields, path, at);
        continue;
      }
      this.leaf(spec, path, entries, spelled);
    }
  }

  private leaf(spec: Leaf, path: string, entries: CEntry[], parentSpelled: string): void {
    const first = entries[0]!;
    const at = parentSpelled ? `${parentSpelled}.${first.key}` : first.key;
    const origin: Origin = { file: this.file, pos: first.keyPos, key: at };
    if (spec.leaf === 'services' || spec.leaf === 'checks' || spec.leaf === 'watches') {
      const items = this.definitions(spec.leaf, entries, parentSpelled);
      const prev = this.fragment.get(path);
      const prevItems = prev?.kind === 'list' ? prev.items : [];
      this.fragment.set(path, { kind: 'list', items: [...prevItems, ...items] });
      return;
    }
    const value = this.typed(spec, first.value, at);
    if (spec.check) {
      const why = spec.check(value);
      if (why) this.fail(first.value.pos, at, why);
    }
    if (spec.refused !== undefined) {
      if (spec.allow?.some((a) => sameValue(a, value))) return;
      this.fail(first.keyPos, at, `not supported: ${spec.refused}`);
    }
    let setting: Setting;
    if (spec.leaf === 'strings') setting = { kind: 'list', items: (value as string[]).map((v) => ({ value: v, origin })) };
    else if (spec.leaf === 'strmap' || spec.leaf === 'durmap' || spec.leaf === 'any') {
      setting = { kind: 'map', value: value as Record<string, unknown>, origin };
    } else setting = { kind: 'scalar', value: value as string | number | boolean, origin };
    if (spec.to !== undefined) {
      if (spec.warn) this.warnings.push(`${this.file}: ${spec.warn}`);
      this.aliases.push({ to: spec.to, setting });
      return;
    }
    this.fragment.set(path, setting);
  }

  /** Deprecated spellings fill their new key only where this file left it unset (Consul's rule). */
  applyAliases(): void {
    for (const a of this.aliases) {
      const existing = this.fragment.get(a.to);
      if (a.to === 'recursors') {
        // 0.5's single `recursor` adds to the list.
        const items = existing?.kind === 'list' ? existing.items : [];
        const s = a.setting as Extract<Setting, { kind: 'scalar' }>;
        this.fragment.set(a.to, { kind: 'list', items: [...items, { value: s.value, origin: s.origin }] });
        continue;
      }
      if (existing === undefined) this.fragment.set(a.to, a.setting);
    }
    // acl_datacenter (0.5's way to switch ACLs on) implies acl.enabled unless the file says otherwise.
    const legacyDc = this.aliases.find((a) => a.to === 'primary_datacenter');
    if (legacyDc && !this.fragment.has('acl.enabled')) {
      this.fragment.set('acl.enabled', { kind: 'scalar', value: true, origin: (legacyDc.setting as { origin: Origin }).origin });
    }
    if (this.aliases.some((a) => a.to === 'acl.tokens.replication') && !this.fragment.has('acl.enable_token_replication')) {
      const a = this.aliases.find((x) => x.to === 'acl.tokens.replication')!;
      this.fragment.set('acl.enable_token_replication', { kind: 'scalar', value: true, origin: (a.setting as { origin: Origin }).origin });
    }
  }

  private typed(spec: Leaf, raw: CValue, at: string): unknown {
    const v = spec.leaf === 'strings' || spec.leaf === 'any' ? raw : single(raw);
    const bad = (want: string): never => this.fail(v.pos, at, `must be ${want}, got ${describeValue(v)}`);
    switch (spec.leaf) {
      case 'string':
        return v.kind === 'string' ? v.value : bad('a string');
      case 'bool':
        return v.kind === 'bool' ? v.value : bad('true or false');
      case 'int': {
        if (v.kind !== 'number' || !Number.isInteger(v.value)) return bad('a whole number');
        if (spec.min !== undefined && v.value < spec.min) this.fail(v.pos, at, `must be at least ${spec.min}, got ${v.value}`);
        if (spec.max !== undefined && v.value > spec.max) this.fail(v.pos, at, `must be at most ${spec.max}, got ${v.value}`);
        return v.value;
      }
      case 'duration':
        return this.duration(v, at, spec.min);
      case 'strings': {
        if (v.kind !== 'list') return bad('a list of strings like ["a", "b"]');
        return v.items.map((item, i) => (item.kind === 'string' ? item.value : this.fail(item.pos, `${at}[${i}]`, `must be a string, got ${describeValue(item)}`)));
      }
      case 'strmap':
      case 'durmap': {
        if (v.kind !== 'object') return bad('a block/object of "key" = "value" pairs');
        const out: Record<string, unknown> = {};
        for (const e of v.entries) {
          const kAt = `${at}.${e.key}`;
          if (e.labels.length > 0) this.fail(e.labels[0]!.pos, kAt, 'takes no label');
          if (Object.prototype.hasOwnProperty.call(out, e.key)) this.fail(e.keyPos, kAt, 'set twice in this file; set it once');
          const ev = e.value;
          if (ev.kind !== 'string') this.fail(ev.pos, kAt, `must be a string, got ${describeValue(ev)}`);
          out[e.key] = spec.leaf === 'durmap' ? this.duration(ev, kAt, undefined) : ev.value;
        }
        return out;
      }
      case 'any':
        return { present: true };
      default:
        return bad('a value');
    }
  }

  private duration(v: CValue, at: string, min: number | undefined): number {
    if (v.kind !== 'string') this.fail(v.pos, at, `must be a duration string like "10s", got ${describeValue(v)}`);
    const ms = parseGoDuration(v.value);
    if (ms === null) this.fail(v.pos, at, `${quote(v.value)} is not a duration (use e.g. "10s", "1m30s", "72h")`);
    if (min !== undefined && ms < min) this.fail(v.pos, at, `must be greater than zero, got ${quote(v.value)}`);
    return ms;
  }

  /** Services, checks or watches: every entry (repeated blocks too), each item a list element or an object. */
  private definitions(kind: 'services' | 'checks' | 'watches', entries: CEntry[], parentSpelled: string): Array<{ value: unknown; origin: Origin }> {
    const out: Array<{ value: unknown; origin: Origin }> = [];
    for (const e of entries) {
      const at = parentSpelled ? `${parentSpelled}.${e.key}` : e.key;
      const elems: Array<{ v: CValue; path: string }> = [];
      if (e.value.kind === 'list') e.value.items.forEach((item, i) => elems.push({ v: item, path: `${at}[${i}]` }));
      else elems.push({ v: e.value, path: entries.length > 1 ? `${at}[${entries.indexOf(e)}]` : at });
      for (const { v, path } of elems) {
        const origin: Origin = { file: this.file, pos: v.pos, key: path };
        if (v.kind !== 'object') this.fail(v.pos, path, `must be a block/object, got ${describeValue(v)}`);
        const index = new Map<string, Pos>();
        const plain = plainDefinition(v, path, index, this.file);
        out.push({ value: this.definition(kind, plain, path, index, v.pos), origin });
      }
    }
    return out;
  }

  private definition(kind: 'services' | 'checks' | 'watches', plain: unknown, path: string, index: Map<string, Pos>, pos: Pos): ServiceDefinition | CheckDefinition | WatchDefinition {
    if (kind === 'watches') {
      const w = parseWatch(plain, parseGoDuration, `${this.file}:${pos.line}:${pos.col}`);
      if (w instanceof WatchProblem) {
        const key = w.key ? `${path}.${w.key}` : path;
        this.fail(index.get(key) ?? nearest(index, key) ?? pos, key, w.reason);
      }
      return w;
    }
    try {
      const r = kind === 'services' ? parseConfigService(this.file, plain, path) : parseConfigCheck(this.file, plain, path);
      this.warnings.push(...r.warnings);
      return r.def;
    } catch (err) {
      if (!(err instanceof DefinitionError)) throw err;
      const key = err.field || path;
      this.fail(index.get(key) ?? nearest(index, key) ?? pos, key, err.reason);
    }
  }
}

/** A list holding one object is that object (HCL's `key = [{ … }]`); anything else is itself. */
function single(v: CValue): CValue {
  return v.kind === 'list' && v.items.length === 1 && v.items[0]!.kind === 'object' ? v.items[0]! : v;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The longest indexed path that is a prefix of `key` (the closest known position). */
function nearest(index: Map<string, Pos>, key: string): Pos | undefined {
  let best: string | undefined;
  for (const k of index.keys()) if (key.startsWith(k) && (best === undefined || k.length > best.length)) best = k;
  return best === undefined ? undefined : index.get(best);
}

const LIST_KEYS = new Set(['checks', 'services', 'check']);

/**
 * A service/check/watch body as plain data for its parser, recording the position of every
 * path (spelled like the parsers spell them: `a.b`, `a[0]`). Repeated blocks become lists;
 * one `checks { … }` block is a list of one (Consul's HCL rule for list-valued keys).
 */
function plainDefinition(v: CValue, path: string, index: Map<string, Pos>, file: string): unknown {
  index.set(path, v.pos);
  switch (v.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return v.value;
    case 'null':
      return null;
    case 'list':
      return v.items.map((item, i) => plainDefinition(item, `${path}[${i}]`, index, file));
    case 'object': {
      const out: Record<string, unknown> = {};
      const groups = new Map<string, CEntry[]>();
      for (const e of v.entries) {
        const g = groups.get(e.key);
        if (g) g.push(e);
        else groups.set(e.key, [e]);
      }
      for (const [key, es] of groups) {
        const at = path ? `${path}.${key}` : key;
        index.set(at, es[0]!.keyPos);
        const labelled = (e: CEntry): CValue =>
          e.labels.reduceRight<CValue>((inner, l) => ({ kind: 'object', pos: l.pos, entries: [{ key: l.value, keyPos: l.pos, labels: [], block: true, value: inner }] }), e.value);
        const blockList = LIST_KEYS.has(key.toLowerCase()) && es.every((e) => e.block);
        if (es.length > 1 || blockList) {
          if (!es.every((e) => labelled(e).kind === 'object')) {
            throw new ConfigError(file, es[1]!.keyPos, at, 'set twice; set it once');
          }
          out[key] = es.map((e, i) => {
            index.set(`${at}[${i}]`, e.keyPos);
            return plainDefinition(labelled(e), `${at}[${i}]`, index, file);
          });
        } else {
          out[key] = plainDefinition(labelled(es[0]!), at, index, file);
        }
      }
      return out;
    }
  }
}

function suggest(key: string, known: string[]): string {
  const k = key.toLowerCase();
  let best = '';
  let bestD = Infinity;
  for (const cand of known) {
    const d = editDistance(k, cand);
    if (d < bestD) {
      bestD = d;
      best = cand;
    }
  }
  return bestD <= Math.max(1, Math.floor(k.length / 4)) ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
