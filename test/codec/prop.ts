// test/codec/prop.ts — shared test helpers: arbitrary wire messages, a strict structural
// comparison, and a property runner that prints the seed and the replay command on failure.
//
// Owns: nothing in production; used by test/codec/*.test.ts.
// Must never: hide a failure (the runner always throws with fast-check's counterexample).
import fc from 'fast-check';

/** Run a property; on failure throw with the counterexample, the seed and how to replay it.
 *  FC_SEED / FC_PATH replay a reported failure; FC_RUNS scales the run count. */
export function checkProperty<Ts>(file: string, property: fc.IProperty<Ts>, numRuns: number): void {
  const seedEnv = process.env.FC_SEED;
  const scale = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 1;
  const params: fc.Parameters<Ts> = { numRuns: Math.max(1, Math.round(numRuns * scale)) };
  if (seedEnv !== undefined) params.seed = Number(seedEnv);
  if (process.env.FC_PATH !== undefined) params.path = process.env.FC_PATH;
  const details = fc.check(property, params);
  if (details.failed) {
    const report = fc.defaultReportMessage(details) ?? 'property failed';
    throw new Error(
      `${report}\nseed=${details.seed} path=${details.counterexamplePath}\n` +
        `replay: FC_SEED=${details.seed} FC_PATH=${details.counterexamplePath} npx vitest run ${file}`,
    );
  }
}

const edgeNumbers = fc.constantFrom(
  0, -0, 1, -1, 31, 32, -32, -33, 127, 128, -128, 255, 256, 16383, 16384, 2 ** 31 - 1, 2 ** 31, -(2 ** 31),
  2 ** 32, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, -(2 ** 53) - 2, 1e300, -1e-300, Number.MIN_VALUE,
  Number.MAX_VALUE, 0.1, -2.5,
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  edgeNumbers,
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 20, maxLength: 80 }),
  fc.uint8Array({ maxLength: 40 }),
);

const keyArb = fc.oneof(
  fc.constantFrom('t', 'term', 'entries', 'from', '__proto__', 'constructor', '', '0', '10', 'a b'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

/** Arbitrary message values: everything the format promises to carry. */
export const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 12 }),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 10 }),
  ),
})).value;

/** Messages shaped like the project's: tagged objects. */
export const messageArb: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(fc.constantFrom('raft.append', 'raft.vote', 'gossip.ping', 'rpc.req'), fc.dictionary(keyArb, valueArb, { maxKeys: 8 }))
  .map(([t, body]) => ({ t, ...body }));

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

/**
 * Why the decoded value `got` differs from `want` ('' when it does not): numbers by
 * Object.is (so -0 counts), Uint8Array by content and exact class, objects by own keys in
 * order (keys whose value is undefined in `want` must be absent), decoded objects must have
 * Object.prototype.
 */
export function difference(want: unknown, got: unknown, path = '$'): string {
  const num = (x: unknown): string => (Object.is(x, -0) ? '-0' : String(x));
  if (typeof want === 'number') return Object.is(want, got) ? '' : `${path}: want ${num(want)}, got ${num(got)}`;
  if (want === null || typeof want !== 'object') {
    return want === got ? '' : `${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
  }
  if (want instanceof Uint8Array) {
    if (!(got instanceof Uint8Array) || got.constructor !== Uint8Array) return `${path}: want a plain Uint8Array`;
    if (got.length !== want.length) return `${path}: length ${got.length} != ${want.length}`;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `${path}[${i}] differs`;
    return '';
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return `${path}: want an array`;
    if (got.length !== want.length) return `${path}: length ${got.length} != ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = difference(want[i], got[i], `${path}[${i}]`);
      if (d) return d;
    }
    return '';
  }
  if (!isPlainObject(got) || Object.getPrototypeOf(got) !== Object.prototype) return `${path}: want a plain object`;
  const w = want as Record<string, unknown>;
  const wantKeys = Object.keys(w).filter((k) => w[k] !== undefined);
  const gotKeys = Object.keys(got);
  if (wantKeys.join('\u0000') !== gotKeys.join('\u0000')) {
    return `${path}: keys ${JSON.stringify(gotKeys)} != ${JSON.stringify(wantKeys)}`;
  }
  for (const k of wantKeys) {
    const d = difference(w[k], got[k], `${path}[${JSON.stringify(k)}]`);
    if (d) return d;
  }
  return '';
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
