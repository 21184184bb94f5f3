// core/catalog/validate.ts — stateless checks of a catalog command.
//
// Owns: deciding whether a value is a well-formed Command and whether it passes the checks
// Consul makes before touching state (missing node/key names, session TTL range, behaviour).
// Proposers call it to reject early; CatalogFSM.apply calls it again because log entries
// are bytes from the wire.
// Must never: look at catalog state (that is apply's job) or throw — bad input becomes an
// error string.
import {
  COMMAND_OPS,
  KV_VALUE_MAX_BYTES,
  MAX_TXN_OPS,
  SESSION_TTL_MAX_MS,
  SESSION_TTL_MIN_MS,
  type Command,
  type CommandOp,
} from './commands.ts';
import { toU64 } from './u64.ts';
import { preparedQueryProblem, preparedQueryShapeProblem, type PreparedQueryDef } from './prepared-query.ts';

export type Validation = { ok: true; cmd: Command } | { ok: false; error: string };

const STATUSES = new Set(['passing', 'warning', 'critical']);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isStrMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every(isStr);

class Bad {
  constructor(readonly error: string) {}
}

/** Collects the first structural problem of a command with a message naming op and field. */
class Fields {
  constructor(
    private readonly op: string,
    private readonly o: Obj,
    private readonly where = '',
  ) {}
  private fail(field: string, want: string): never {
    throw new Bad(`catalog command '${this.op}': field '${this.where}${field}' must be ${want}`);
  }
  str(f: string): string {
    const v = this.o[f];
    return isStr(v) ? v : this.fail(f, 'a string');
  }
  optStr(f: string): void {
    if (this.o[f] !== undefined && !isStr(this.o[f])) this.fail(f, 'a string when given');
  }
  uint(f: string): number {
    const v = this.o[f];
    return isUint(v) ? v : this.fail(f, 'a non-negative integer ≤ 2^53-1');
  }
  optUint(f: string): void {
    if (this.o[f] !== undefined && !isUint(this.o[f])) this.fail(f, 'a non-negative integer ≤ 2^53-1 when given');
  }
  optU64(f: string): void {
    if (this.o[f] !== undefined && (typeof this.o[f] === 'bigint' || toU64(this.o[f]) === null)) {
      this.fail(f, 'a uint64 (decimal text, or a safe integer) when given');
    }
  }
  optBool(f: string): void {
    if (this.o[f] !== undefined && typeof this.o[f] !== 'boolean') this.fail(f, 'a boolean when given');
  }
  optStrArr(f: string): void {
    if (this.o[f] !== undefined && !isStrArr(this.o[f])) this.fail(f, 'an array of strings when given');
  }
  optStrMap(f: string): void {
    if (this.o[f] !== undefined && !isStrMap(this.o[f])) this.fail(f, 'an object of string values when given');
  }
  bytes(f: string): Uint8Array {
    const v = this.o[f];
    return v instanceof Uint8Array ? v : this.fail(f, 'a Uint8Array');
  }
  obj(f: string): Obj {
    const v = this.o[f];
    return isObj(v) ? v : this.fail(f, 'an object');
  }
  optObj(f: string): Obj | undefined {
    const v = this.o[f];
    if (v === undefined) return undefined;
    return isObj(v) ? v : this.fail(f, 'an object when given');
  }
  status(f: string, optional: boolean): void {
    const v = this.o[f];
    if (optional && v === undefined) return;
    if (!isStr(v) || !STATUSES.has(v)) this.fail(f, "one of 'passing', 'warning', 'critical'");
  }
  nested(o: Obj, where: string): Fields {
    return new Fields(this.op, o, `${this.where}${where}.`);
  }
}

/** Go's time.Duration String() for a whole number of milliseconds ("500ms", "15s",
 *  "1m30s", "24h0m0s"): Consul prints session TTLs and its TTL bounds this way. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return `-${formatGoDuration(-ms)}`;
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export const SESSION_TTL_RANGE_TEXT = `[${formatGoDuration(SESSION_TTL_MIN_MS)}=${formatGoDuration(SESSION_TTL_MAX_MS)}]`;

function checkValue(f: Fields): void {
  if (f.bytes('value').length > KV_VALUE_MAX_BYTES) throw new Bad(`Value exceeds ${KV_VALUE_MAX_BYTES} byte limit`);
}

function nonEmptyKey(key: string): void {
  if (key === '') throw new Bad('Missing key name');
}

/** One TxnOp: exactly one of KV / Node / Service / Check, with typed fields. Verbs and
 *  semantic rules are apply's (per-op errors, as Consul reports them). */
function checkTxnOp(f: Fields, op: unknown, i: number): void {
  if (!isObj(op)) throw new Bad(`catalog command 'txn': field 'ops.${i}' must be an object`);
  const kinds = ['KV', 'Node', 'Service', 'Check'].filter((k) => op[k] !== undefined);
  if (kinds.length !== 1) throw new Bad(`catalog command 'txn': op ${i} must have exactly one of KV, Node, Service, Check`);
  const kind = kinds[0]!;
  const o = f.nested(f.nested(op, `ops.${i}`).obj(kind), `ops.${i}.${kind}`);
  o.str('Verb');
  const body = op[kind] as Obj;
  switch (kind) {
    case 'KV':
      o.str('Key');
      if (body['Value'] !== undefined) o.bytes('Value');
      o.optU64('Flags');
      o.optUint('Index');
      o.optStr('Session');
      return;
    case 'Node': {
      const n = o.nested(o.obj('Node'), 'Node');
      n.str('Node');
      for (const s of ['ID', 'Address', 'Datacenter']) n.optStr(s);
      n.optStrMap('TaggedAddresses');
      n.optStrMap('Meta');
      n.optUint('ModifyIndex');
      return;
    }
    case 'Service': {
      o.str('Node');
      const s = o.nested(o.obj('Service'), 'Service');
      for (const k of ['ID', 'Service', 'Address']) s.optStr(k);
      s.optStrArr('Tags');
      s.optUint('Port');
      s.optStrMap('Meta');
      s.optBool('EnableTagOverride');
      s.optUint('ModifyIndex');
      const w = s.optObj('Weights');
      if (w) {
        const ws = s.nested(w, 'Weights');
        ws.uint('Passing');
        ws.uint('Warning');
      }
      return;
    }
    default: {
      const k = o.nested(o.obj('Check'), 'Check');
      k.str('Node');
      for (const s of ['CheckID', 'Name', 'Notes', 'Output', 'ServiceID', 'Type']) k.optStr(s);
      k.status('Status', true);
      k.optUint('ModifyIndex');
    }
  }
}

function checkShape(op: CommandOp, c: Obj, f: Fields): void {
  switch (op) {
    case 'txn': {
      const ops = c['ops'];
      if (!Array.isArray(ops)) throw new Bad(`catalog command 'txn': field 'ops' must be an array`);
      if (ops.length > MAX_TXN_OPS) throw new Bad(`Transaction contains too many operations (${ops.length} > ${MAX_TXN_OPS})`);
      ops.forEach((op, i) => checkTxnOp(f, op, i));
      return;
    }
    case 'restore':
      f.bytes('snapshot');
      return;
    case 'preparedQuerySet': {
      if (typeof c['create'] !== 'boolean') throw new Bad(`catalog command 'preparedQuerySet': field 'create' must be a boolean`);
      const shape = preparedQueryShapeProblem(c['query'], `catalog command 'preparedQuerySet': field 'query'`);
      if (shape) throw new Bad(shape);
      const q = c['query'] as unknown as PreparedQueryDef;
      if (q.ID === '') throw new Bad('Missing query ID');
      const problem = preparedQueryProblem(q);
      if (problem) throw new Bad(problem);
      return;
    }
    case 'preparedQueryDelete':
      if (f.str('id') === '') throw new Bad('Missing query ID');
      return;
    case 'register': {
      const n = f.nested(f.obj('node'), 'node');
      const node = n.str('Node');
      const address = n.str('Address');
      n.optStr('ID');
      n.optStr('Datacenter');
      n.optStrMap('TaggedAddresses');
      n.optStrMap('Meta');
      if (node === '') throw new Bad('Must provide node');
      if (address === '') throw new Bad('Must provide address');
      const svc = f.optObj('service');
      if (svc) {
        const s = f.nested(svc, 'service');
        s.optStr('ID');
        const name = s.str('Service');
        s.optStrArr('Tags');
        s.optStr('Address');
        s.optUint('Port');
        s.optStrMap('Meta');
        s.optBool('EnableTagOverride');
        const w = s.optObj('Weights');
        if (w) {
          const ws = s.nested(w, 'Weights');
          ws.uint('Passing');
          ws.uint('Warning');
        }
        if (name === '') throw new Bad('Must provide service name with ID');
      }
      if (c['checks'] !== undefined) {
        const arr = c['checks'];
        if (!Array.isArray(arr)) throw new Bad(`catalog command 'register': field 'checks' must be an array when given`);
        arr.forEach((ch, i) => {
          if (!isObj(ch)) throw new Bad(`catalog command 'register': field 'checks.${i}' must be an object`);
          const k = f.nested(ch, `checks.${i}`);
          k.optStr('CheckID');
          const name = k.str('Name');
          k.status('Status', true);
          k.optStr('Notes');
          k.optStr('Output');
          k.optStr('ServiceID');
          k.optStr('Type');
          const id = (ch['CheckID'] as string | undefined) || name;
          if (id === '') throw new Bad('Must provide check ID or name');
        });
      }
      return;
    }
    case 'deregister':
      f.optStr('serviceId');
      f.optStr('checkId');
      if (f.str('node') === '') throw new Bad('Must provide node');
      return;
    case 'updateCheckStatus':
      if (f.str('node') === '') throw new Bad('Must provide node');
      if (f.str('checkId') === '') throw new Bad('Must provide check ID');
      f.status('status', false);
      f.optStr('output');
      return;
    case 'kvSet':
      nonEmptyKey(f.str('key'));
      f.optU64('flags');
      checkValue(f);
      return;
    case 'kvCas':
      nonEmptyKey(f.str('key'));
      f.optU64('flags');
      f.uint('casIndex');
      checkValue(f);
      return;
    case 'kvDelete':
      f.optBool('recurse');
      f.optUint('casIndex');
      // DELETE /v1/kv/?recurse may name the empty prefix; everything else needs a key.
      if (f.str('key') === '' && !(c['recurse'] === true && c['casIndex'] === undefined)) throw new Bad('Missing key name');
      return;
    case 'kvDeleteTree':
      f.str('prefix');
      return;
    case 'kvLock':
    case 'kvUnlock':
      nonEmptyKey(f.str('key'));
      f.optU64('flags');
      checkValue(f);
      if (f.str('session') === '') throw new Bad('Missing session');
      return;
    case 'kvReapTombstones':
      f.uint('upToIndex');
      return;
    case 'sessionCreate': {
      const id = f.str('id');
      const node = f.str('node');
      f.optStr('name');
      f.optStrArr('checks');
      f.optStrArr('serviceChecks');
      f.optUint('lockDelayMs');
      f.optStr('behavior');
      f.optUint('ttlMs');
      if (id === '') throw new Bad('Missing session ID');
      if (node === '') throw new Bad('Must provide Node');
      const b = c['behavior'] as string | undefined;
      if (b !== undefined && b !== '' && b !== 'release' && b !== 'delete') throw new Bad(`Invalid Behavior setting '${b}'`);
      const ttl = (c['ttlMs'] as number | undefined) ?? 0;
      if (ttl !== 0 && (ttl < SESSION_TTL_MIN_MS || ttl > SESSION_TTL_MAX_MS)) {
        // Consul prints the TTL as a Go Duration with %d, i.e. in nanoseconds.
        throw new Bad(`Invalid Session TTL '${BigInt(ttl) * 1_000_000n}', must be between ${SESSION_TTL_RANGE_TEXT}`);
      }
      return;
    }
    case 'sessionDestroy':
      if (f.str('id') === '') throw new Bad('Missing session ID');
      return;
    case 'sessionInvalidate':
      if (f.str('id') === '') throw new Bad('Missing session ID');
      if (c['reason'] !== 'ttl') throw new Bad(`catalog command 'sessionInvalidate': field 'reason' must be 'ttl'`);
      return;
  }
}

/** Checks a command's shape and Consul's stateless rules. Never throws. */
export function validateCommand(cmd: unknown): Validation {
  if (!isObj(cmd)) return { ok: false, error: 'catalog command must be an object with an `op` field' };
  const op = cmd['op'];
  if (!isStr(op) || !(COMMAND_OPS as readonly string[]).includes(op)) {
    return { ok: false, error: `unknown catalog command op ${JSON.stringify(op)}; expected one of ${COMMAND_OPS.join(', ')}` };
  }
  const nowMs = cmd['nowMs'];
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    return { ok: false, error: `catalog command '${op}': field 'nowMs' must be a finite number (the proposer's clock)` };
  }
  try {
    checkShape(op as CommandOp, cmd, new Fields(op, cmd));
  } catch (e) {
    if (e instanceof Bad) return { ok: false, error: e.error };
    throw e;
  }
  return { ok: true, cmd: cmd as unknown as Command };
}
