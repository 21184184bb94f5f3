// test/e2e/crash-safety.test.ts — acknowledged KV writes survive kill -9 of one server, then of all.
//
// Owns: three real server processes (NET.2-4, -bootstrap-expect 3), a stream of KV writes over
// HTTP (one sequential writer plus concurrent ones), SIGKILL of the leader mid-stream, SIGKILL
// of every server mid-stream, a restart with the same command lines and data dirs, and the
// check that every write answered `200 true` is present with its value.
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.0.9 so this file can run beside the other real-process tests.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup, assertPortsFree, freshTempDir, http, leaderOf, runCli, sleep, waitFor, type Proc } from './harness.ts';

const NET = process.env.MUSTER_E2E_CRASH_NET ?? '127.0.9';
const SERVERS = ['s1', 's2', 's3'].map((name, i) => ({ name, ip: `${NET}.${i + 2}` }));
const CONCURRENT_WRITERS = 8;
const WRITE_TIMEOUT_MS = 2000;

const tmp = freshTempDir('crash');
const group = new ProcessGroup(tmp);
const procs = new Map<string, Proc>();
const ctx = () => `agent logs in ${tmp}\n${group.tails(12)}`;

function args(s: { name: string; ip: string }, restart = false): string[] {
  // On restart s1 runs without -bootstrap-expect (its Raft data alone must do), the others
  // with their original command line, as a systemd unit would.
  const expect = restart && s.name === 's1' ? [] : ['-bootstrap-expect', '3'];
  return ['-server', ...expect, '-data-dir', path.join(tmp, s.name), `-node=${s.name}`, `-bind=${s.ip}`, `-client=${s.ip}`, '-dc=dc1'];
}

async function startAll(restart = false): Promise<void> {
  for (const s of SERVERS) procs.set(s.name, group.agent(s.name, args(s, restart)));
  for (const s of SERVERS) {
    await waitFor(`${s.name} answers HTTP`, async () => (await http(`http://${s.ip}:8500/v1/agent/self`)).status === 200, {
      timeoutMs: 20_000,
      context: ctx,
    });
  }
}

async function agreedLeader(among: typeof SERVERS, timeoutMs: number): Promise<string> {
  return waitFor(
    `${among.map((s) => s.name).join(', ')} agree on a leader`,
    async () => {
      const seen = await Promise.all(among.map((s) => leaderOf(`${s.ip}:8500`)));
      if (seen[0] === '' || !seen.every((l) => l === seen[0])) throw new Error(`leaders seen: ${JSON.stringify(seen)}`);
      return seen[0]!;
    },
    { timeoutMs, intervalMs: 150, context: ctx },
  );
}

/** Acknowledged writes: key → value, and when they were acknowledged relative to the kills. */
const acked = new Map<string, string>();
let phase: 'all-up' | 'one-killed' | 'all-killed' = 'all-up';
const ackedIn = { 'all-up': 0, 'one-killed': 0, 'all-killed': 0 };
let attempts = 0;
let stop = false;

async function writeOnce(key: string, value: string, target: string): Promise<void> {
  attempts++;
  try {
    const r = await http(`http://${target}:8500/v1/kv/${key}`, { method: 'PUT', body: value, timeoutMs: WRITE_TIMEOUT_MS });
    if (r.status === 200 && r.text === 'true') {
      acked.set(key, value);
      ackedIn[phase]++;
    }
  } catch {
    /* refused, reset or timed out: not acknowledged, so no promise to keep */
  }
}

async function writer(id: string, pace: number): Promise<void> {
  for (let i = 0; !stop; i++) {
    const target = SERVERS[(i + pace) % SERVERS.length]!.ip;
    await writeOnce(`crash/${id}/${String(i).padStart(5, '0')}`, `${id}-${i}-${'x'.repeat(i % 50)}`, target);
  }
}

beforeAll(async () => {
  for (const s of SERVERS) await assertPortsFree(s.ip, [8300, 8301, 8302, 8500, 8600]);
});

afterAll(async () => {
  stop = true;
  await group.killAll();
  if (process.env.MUSTER_KEEP_E2E !== '1') fs.rmSync(tmp, { recursive: true, force: true });
});

describe(`crash safety on real processes (${NET}.2-4)`, () => {
  it('every acknowledged write survives kill -9 of the leader and then of every server', async () => {
    await startAll();
    const join = await runCli(['join', `-http-addr=${SERVERS[0]!.ip}:8500`, SERVERS[1]!.ip, SERVERS[2]!.ip]);
    expect(join.stdout.trim(), join.stderr).toBe('Successfully joined cluster by contacting 2 nodes.');
    const leaderAddr = await agreedLeader(SERVERS, 15_000);

    const writers = [writer('seq', 0), ...Array.from({ length: CONCURRENT_WRITERS }, (_, w) => writer(`c${w}`, w))];

    await sleep(1500);
    const leader = SERVERS.find((s) => `${s.ip}:8300` === leaderAddr)!;
    phase = 'one-killed';
    await group.kill9(procs.get(leader.name)!);
    const survivors = SERVERS.filter((s) => s !== leader);
    await agreedLeader(survivors, 10_000);
    await sleep(1500);

    phase = 'all-killed';
    await Promise.all(survivors.map((s) => group.kill9(procs.get(s.name)!)));
    stop = true;
    await Promise.all(writers);

    expect(ackedIn['all-up'], 'writes acknowledged with three servers up').toBeGreaterThan(20);
    expect(ackedIn['one-killed'], 'writes acknowledged after the leader was killed (two of three up)').toBeGreaterThan(20);

    // Same data dirs; the Raft state on disk must bring the cluster back.
    await startAll(true);
    await agreedLeader(SERVERS, 30_000);

    const stored = await waitFor(
      'a consistent read of crash/ after the restart',
      async () => {
        const r = await http(`http://${SERVERS[0]!.ip}:8500/v1/kv/crash/?recurse&consistent`, { timeoutMs: 5000 });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text}`);
        return JSON.parse(r.text) as Array<{ Key: string; Value: string | null }>;
      },
      { timeoutMs: 15_000, intervalMs: 300, context: ctx },
    );
    const have = new Map(stored.map((e) => [e.Key, e.Value === null ? '' : Buffer.from(e.Value, 'base64').toString('utf8')]));
    const lost: string[] = [];
    const wrong: string[] = [];
    for (const [key, value] of acked) {
      if (!have.has(key)) lost.push(key);
      else if (have.get(key) !== value) wrong.push(`${key}: acked ${JSON.stringify(value)}, read ${JSON.stringify(have.get(key))}`);
    }
    const summary = `${acked.size} acknowledged of ${attempts} attempts (${JSON.stringify(ackedIn)}), ${have.size} keys read back`;
    console.log(`crash-safety: ${summary}`);
    expect(lost, `acknowledged writes missing after restart — ${summary}; first missing: ${lost.slice(0, 10).join(', ')}`).toEqual([]);
    expect(wrong, `acknowledged writes with another value — ${summary}`).toEqual([]);
    // Unacknowledged writes may or may not have landed, but nothing can appear that was never sent.
    const unknown = [...have.keys()].filter((k) => !/^crash\/(seq|c\d+)\/\d{5}$/.test(k));
    expect(unknown).toEqual([]);
  }, 240_000);
});
