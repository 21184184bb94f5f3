// sim/fuzz/linearizability.ts — a Porcupine-style linearizability checker (Wing & Gong's
// search with Lowe's memoisation), and the KV register/lock model the cluster fuzzer uses.
//
// Owns: deciding whether a concurrent history of operations (call time, return time, input,
// output) has a sequential order that respects real time and the model; splitting the history
// into independent parts (per key, P-compositionality); a step budget so a pathological
// history answers "unknown" instead of hanging.
// Must never: read a clock, allocate randomness or do I/O (it is pure and runs in tests and in
// the fuzzer alike); treat an operation with unknown outcome as failed — such an operation may
// have taken effect at any moment after its call, or never.

export interface Operation<I, O> {
  /** The client (process) that issued it; a client's operations never overlap. */
  clientId: number;
  input: I;
  /** Invocation time. */
  call: number;
  /** Response time; undefined when the outcome is unknown (timeout, crash, lost reply). */
  ret?: number;
  /** The observed output; ignored when `ret` is undefined. */
  output?: O;
}

export interface Model<S, I, O> {
  init(): S;
  /** Apply input in state; `output` undefined means "outcome unknown": accept whatever the model does. */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** A string that is equal for equal states (memoisation key). */
  hash(state: S): string;
  /** Independent sub-histories (e.g. per key); default: one. */
  partition?(ops: Operation<I, O>[]): Operation<I, O>[][];
  describe?(op: Operation<I, O>): string;
}

export type CheckVerdict = 'ok' | 'illegal' | 'unknown';

export interface CheckResult<I, O> {
  verdict: CheckVerdict;
  /** For 'illegal': the sub-history that cannot be linearized. */
  partition?: Operation<I, O>[];
  /** For 'illegal': the deepest linearizable prefix found, and the completed operation that
   *  could not be placed after it (the first one whose response forced backtracking there). */
  longestPrefix?: Operation<I, O>[];
  blockedOn?: Operation<I, O>;
  /** Search steps taken over all partitions. */
  steps: number;
}

interface Entry {
  isCall: boolean;
  op: number;
  time: number;
  /** Call entries: their return entry (null when the outcome is unknown). */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

function buildList<I, O>(ops: Operation<I, O>[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    const call: Entry = { isCall: true, op: i, time: op.call, match: null, prev: null, next: null };
    entries.push(call);
    if (op.ret !== undefined) {
      if (op.ret < op.call) throw new Error(`linearizability: operation ${i} returns (${op.ret}) before its call (${op.call})`);
      const ret: Entry = { isCall: false, op: i, time: op.ret, match: null, prev: null, next: null };
      call.match = ret;
      entries.push(ret);
    }
  });
  // Equal times: calls first, so touching operations count as concurrent (never a false alarm).
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { isCall: false, op: -1, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

function lift(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next) e.next.prev = e.prev;
  const m = e.match;
  if (m) {
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  }
}

function unlift(e: Entry): void {
  const m = e.match;
  if (m) {
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
  }
  e.prev!.next = e;
  if (e.next) e.next.prev = e;
}

function wordsKey(bits: Uint32Array, mask: Uint32Array): string {
  let s = '';
  for (let i = 0; i < bits.length; i++) s += (bits[i]! & mask[i]!).toString(36) + ',';
  return s;
}

/** a ⊆ b, both restricted to mask. */
function subsetOf(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
  return true;
}

const MEMO_PER_CONFIG = 4;

interface SingleResult {
  ok: boolean | null;
  steps: number;
  longest: number[];
  blockedOn: number | null;
}

function checkSingle<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], budget: number): SingleResult {
  const head = buildList(ops);
  let remaining = 0;
  for (const op of ops) if (op.ret !== undefined) remaining++;
  const words = Math.ceil(ops.length / 32) || 1;
  const bits = new Uint32Array(words);
  // Memo (Lowe): a configuration is the set of linearized ops plus the model state. Unknown-
  // outcome ops are optional, so a configuration dominates another with the same completed ops
  // and state if it has placed a subset of the unknown ones (more of them still available).
  // Without this, every subset of lost writes would be a new configuration.
  const completedMask = new Uint32Array(words);
  const pendingMask = new Uint32Array(words);
  ops.forEach((op, i) => {
    if (op.ret === undefined) pendingMask[i >> 5]! |= 1 << (i & 31);
    else completedMask[i >> 5]! |= 1 << (i & 31);
  });
  const seen = new Map<string, Uint32Array[]>();
  const exactSeen = new Set<string>();
  const allMask = new Uint32Array(words).fill(0xffffffff);
  const calls: { entry: Entry; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  let longest: number[] = [];
  let blockedOn: number | null = null;
  while (remaining > 0) {
    if (++steps > budget) return { ok: null, steps, longest, blockedOn };
    if (entry === null) throw new Error('linearizability: search ran past the last response (internal error)');
    if (entry.isCall) {
      const op = ops[entry.op]!;
      const r = model.step(state, op.input, op.ret === undefined ? undefined : op.output);
      if (r.ok) {
        bits[entry.op >> 5]! |= 1 << (entry.op & 31);
        const h = model.hash(r.state);
        const key = wordsKey(bits, completedMask) + '|' + h;
        const exact = wordsKey(bits, allMask) + '|' + h;
        const placed = bits.map((w, i) => w & pendingMask[i]!);
        const prior = seen.get(key);
        if (!exactSeen.has(exact) && !(prior && prior.some((p) => subsetOf(p, placed)))) {
          exactSeen.add(exact);
          // Forgetting a dominating entry only prunes less, so the list stays short.
          if (!prior) seen.set(key, [placed]);
          else if (prior.length < MEMO_PER_CONFIG) prior.push(placed);
          else prior[steps % MEMO_PER_CONFIG] = placed;
          calls.push({ entry, state });
          state = r.state;
          if (entry.match) remaining--;
          lift(entry);
          entry = head.next;
          continue;
        }
        bits[entry.op >> 5]! &= ~(1 << (entry.op & 31));
      }
      entry = entry.next;
    } else {
      // A response is reached whose operation is not yet placed: nothing later can help.
      if (calls.length > longest.length) {
        longest = calls.map((c) => c.entry.op);
        blockedOn = entry.op;
      } else if (calls.length === longest.length && blockedOn === null) blockedOn = entry.op;
      const top = calls.pop();
      if (!top) return { ok: false, steps, longest, blockedOn };
      state = top.state;
      bits[top.entry.op >> 5]! &= ~(1 << (top.entry.op & 31));
      if (top.entry.match) remaining++;
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { ok: true, steps, longest: [], blockedOn: null };
}

/** Is the history linearizable for the model? `maxSteps` bounds the search over all parts. */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[], opts: { maxSteps?: number } = {}): CheckResult<I, O> {
  const parts = model.partition ? model.partition(history) : [history];
  let budget = opts.maxSteps ?? 5_000_000;
  let steps = 0;
  let unknown = false;
  // Smaller parts first: a violation there is cheaper to find and easier to read.
  const order = parts.map((p, i) => i).sort((a, b) => parts[a]!.length - parts[b]!.length || a - b);
  for (const i of order) {
    const part = parts[i]!;
    const r = checkSingle(model, part, budget);
    steps += r.steps;
    budget -= r.steps;
    if (r.ok === false) {
      return {
        verdict: 'illegal',
        partition: part,
        longestPrefix: r.longest.map((k) => part[k]!),
        blockedOn: r.blockedOn === null ? undefined : part[r.blockedOn],
        steps,
      };
    }
    if (r.ok === null) unknown = true;
    if (budget <= 0) return { verdict: 'unknown', steps };
  }
  return { verdict: unknown ? 'unknown' : 'ok', steps };
}

// ---------------------------------------------------------------------------- KV model

/** One key of Consul's KV store, as the fuzzer's clients use it. Values are unique per write. */
export type KvInput =
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  /** PUT ?cas=<ModifyIndex read earlier>: with unique values, "index unchanged" ⇔ "value unchanged". */
  | { op: 'cas'; key: string; expect: string | null; value: string }
  | { op: 'acquire'; key: string; session: string; value: string }
  /** Like Consul, a release also stores its body as the value (absent: empty, read as null). */
  | { op: 'release'; key: string; session: string; value?: string }
  /** The session was destroyed (its node left): every lock it holds is released. */
  | { op: 'invalidate'; key: string; session: string };

export interface KvOutput {
  /** get: the value read (null: no such key). */
  value?: string | null;
  /** cas/acquire/release: Consul's true/false. */
  ok?: boolean;
}

export interface KvState {
  value: string | null;
  holder: string | null;
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => ({ value: null, holder: null }),
  step(s, inp, out) {
    switch (inp.op) {
      case 'put':
        return { ok: true, state: { value: inp.value, holder: s.holder } };
      case 'delete':
        return { ok: true, state: { value: null, holder: null } };
      case 'get':
        return { ok: out === undefined || out.value === s.value, state: s };
      case 'cas': {
        const applies = s.value === inp.expect;
        if (out !== undefined && out.ok !== applies) return { ok: false, state: s };
        return { ok: true, state: applies ? { value: inp.value, holder: s.holder } : s };
      }
      case 'acquire': {
        const applies = s.holder === null || s.holder === inp.session;
        if (out !== undefined && out.ok !== applies) return { ok: false, state: s };
        return { ok: true, state: applies ? { value: inp.value, holder: inp.session } : s };
      }
      case 'release': {
        const applies = s.holder === inp.session;
        if (out !== undefined && out.ok !== applies) return { ok: false, state: s };
        return { ok: true, state: applies ? { value: inp.value ?? null, holder: null } : s };
      }
      case 'invalidate':
        return { ok: true, state: s.holder === inp.session ? { value: s.value, holder: null } : s };
    }
  },
  hash: (s) => `${s.value === null ? '\u0001' : s.value}\u0000${s.holder ?? '\u0001'}`,
  partition(ops) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of ops) {
      const list = byKey.get(op.input.key);
      if (list) list.push(op);
      else byKey.set(op.input.key, [op]);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
  describe(op) {
    const i = op.input;
    const res =
      op.ret === undefined
        ? '?'
        : i.op === 'get'
          ? JSON.stringify(op.output?.value ?? null)
          : i.op === 'cas' || i.op === 'acquire' || i.op === 'release'
            ? String(op.output?.ok)
            : 'ok';
    const args =
      i.op === 'put'
        ? `${i.key}=${i.value}`
        : i.op === 'cas'
          ? `${i.key} ${JSON.stringify(i.expect)}→${i.value}`
          : i.op === 'acquire' || i.op === 'release' || i.op === 'invalidate'
            ? `${i.key} by ${i.session}`
            : i.key;
    return `c${op.clientId} ${i.op}(${args}) → ${res} [${op.call}, ${op.ret ?? '∞'}]`;
  },
};

/**
 * Drop unknown-outcome puts and cas whose value nobody ever observed (no read returned it, no
 * cas expected it), when no failed cas on that key answered after their call. Such a write can
 * always be taken as "never happened": the states it would create are seen by no read, and only
 * a failed cas could need a state other than the one without it. The verdict is unchanged; the
 * search no longer has to try every subset of lost writes. (Values must be unique per write.)
 */
export function pruneUnobservedKvWrites(ops: Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[] {
  const observed = new Set<string>();
  const failedCasRet = new Map<string, number>();
  for (const op of ops) {
    const i = op.input;
    if (i.op === 'get' && op.ret !== undefined && op.output?.value != null) observed.add(`${i.key}\u0000${op.output.value}`);
    if (i.op === 'cas' && i.expect !== null) observed.add(`${i.key}\u0000${i.expect}`);
    if (i.op === 'cas' && op.ret !== undefined && op.output?.ok === false) failedCasRet.set(i.key, Math.max(failedCasRet.get(i.key) ?? -Infinity, op.ret));
  }
  return ops.filter((op) => {
    const i = op.input;
    if (op.ret !== undefined || (i.op !== 'put' && i.op !== 'cas')) return true;
    if (observed.has(`${i.key}\u0000${i.value}`)) return true;
    return (failedCasRet.get(i.key) ?? -Infinity) >= op.call;
  });
}
