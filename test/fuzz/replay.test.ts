// Cases are data: a seed always draws the same case, a case always runs the same way, a
// reproducer file replays through the CLI with the violation's exit code, bad files are refused.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseForSeed } from '../../sim/fuzz/cluster/arbitrary.ts';
import { CLUSTER_BUGS } from '../../sim/fuzz/cluster/bugs.ts';
import { validateCase, type ClusterCase } from '../../sim/fuzz/cluster/case.ts';
import { EXIT_CODES, runCase } from '../../sim/fuzz/cluster/run.ts';
import { parseCaseFile, reproducerJson, shrinkCase } from '../../sim/fuzz/cluster/shrink.ts';
import { fuzzCluster } from '../../cli/commands/fuzz-cluster.ts';

const quietly = async <T>(fn: () => Promise<T>): Promise<{ value: T; out: string }> => {
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((out += s), true)) as typeof process.stderr.write;
  try {
    return { value: await fn(), out };
  } finally {
    process.stdout.write = orig;
    process.stderr.write = origErr;
  }
};

describe('fuzz cluster: cases as data', () => {
  it('a seed draws the same case every time, and different seeds differ', () => {
    const o = { servers: 3, clients: 2, chaosMs: 5000 };
    expect(JSON.stringify(caseForSeed(7, o))).toBe(JSON.stringify(caseForSeed(7, o)));
    expect(JSON.stringify(caseForSeed(7, o))).not.toBe(JSON.stringify(caseForSeed(8, o)));
    expect(() => validateCase(JSON.parse(JSON.stringify(caseForSeed(7, o))), CLUSTER_BUGS)).not.toThrow();
  });

  it('the same case runs to the same trace hash and verdict (determinism)', () => {
    const k = caseForSeed(3, { servers: 3, clients: 2, chaosMs: 4000 });
    const a = runCase(k);
    const b = runCase(JSON.parse(JSON.stringify(k)) as ClusterCase);
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.verdict).toBe(b.verdict);
    expect(a.stats).toEqual(b.stats);
  });

  it('refuses malformed case files naming the field and the fix', () => {
    const good = JSON.parse(JSON.stringify(caseForSeed(1, { servers: 3, clients: 2, chaosMs: 2000 })));
    expect(() => parseCaseFile('{nope', 'x.json')).toThrow(/x\.json: not JSON/);
    expect(() => parseCaseFile(JSON.stringify({ ...good, servers: 9 }), 'x.json')).toThrow(/\$\.servers: expected a number in \[1, 5\]/);
    expect(() => parseCaseFile(JSON.stringify({ ...good, bug: 'nope' }), 'x.json')).toThrow(/\$\.bug: unknown bug "nope" \(use one of stale-read/);
    const badFault = { ...good, faults: [{ atMs: 1, kind: 'crash', node: 's9', downMs: 1 }] };
    expect(() => parseCaseFile(JSON.stringify(badFault), 'x.json')).toThrow(/\$\.faults\[0\]\.node: unknown node "s9"/);
    const badOp = { ...good, workload: [[{ gapMs: 1, op: { k: 'fly' } }], []] };
    expect(() => parseCaseFile(JSON.stringify(badOp), 'x.json')).toThrow(/\$\.workload\[0\]\[0\]\.op\.k: unknown op "fly"/);
  });

  it('a shrunk reproducer file replays through the CLI with the correctness exit code', async () => {
    const k = caseForSeed(0, { servers: 3, clients: 2, chaosMs: 10_000, bug: 'lost-ack' });
    const r = runCase(k);
    expect(r.verdict).toBe('correctness');
    const s = shrinkCase(k, r, 15);
    const dir = mkdtempSync(join(tmpdir(), 'muster-fuzz-'));
    const file = join(dir, 'repro.json');
    writeFileSync(file, reproducerJson(s, 0, k));
    const back = parseCaseFile(readFileSync(file, 'utf8'), file);
    expect(back.expect?.invariant).toBe(r.violation!.invariant);
    const { value, out } = await quietly(() => fuzzCluster(['--replay', file]));
    expect(value).toBe(EXIT_CODES.correctness);
    expect(out).toContain(`reproduced: correctness ${r.violation!.invariant}`);
  }, 60_000);

  it('the CLI tells bad arguments (2) from a clean run (0)', async () => {
    expect((await quietly(() => fuzzCluster(['--servers', '4']))).value).toBe(2);
    expect((await quietly(() => fuzzCluster(['--bug', 'nope']))).out).toMatch(/--bug must be one of stale-read/);
    expect((await quietly(() => fuzzCluster(['--replay', '/nonexistent/case.json']))).value).toBe(2);
    const ok = await quietly(() => fuzzCluster(['--seeds', '2', '--duration', '2', '--quiet']));
    expect(ok.value).toBe(0);
    expect(ok.out).toMatch(/fuzz cluster: 2 schedules ok \(seeds 0\.\.1, 3 servers \+ 2 clients, 2 s simulated each\)/);
  }, 60_000);
});
