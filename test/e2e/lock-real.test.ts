// test/e2e/lock-real.test.ts — `consul lock` against a real agent on loopback: Consul's lock and
// semaphore key layout (so locks of other Consul clients interoperate, emulated here with the
// HTTP calls Consul's api package makes), mutual exclusion, -timeout, -n semaphores and their
// limit conflict, -child-exit-code, the child killed when the lock is lost or the command is
// stopped, and the keys and sessions cleaned up afterwards.
// Must never: wait without a deadline, or leave a process behind (children are bounded loops,
// afterAll kills every process it started by PID).
//
// NET is 127.26.2 (the api engineer's block 127.26.0.0/16).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MUSTER, ProcessGroup, freshTempDir, http, runCli, sleep, waitFor, withDeadline, type Proc } from './harness.ts';

const IP = process.env.MUSTER_E2E_LOCK_IP ?? '127.26.2.1';
const BASE = `http://${IP}:8500`;
const ADDR = `-http-addr=${IP}:8500`;
const LOCK_FLAG = '3304740253564472344';
const SEMAPHORE_FLAG = '16210313421097356768';
const tmp = freshTempDir('lock');
const group = new ProcessGroup(tmp);
let seq = 0;

beforeAll(async () => {
  group.agent('s1', ['-server', '-bootstrap-expect', '1', '-data-dir', path.join(tmp, 's1'), '-node=s1', `-bind=${IP}`, `-client=${IP}`]);
  // A single server elects itself within a few election timeouts; 30 s covers a loaded CI box.
  await waitFor(
    'a leader',
    async () => {
      const r = await http(`${BASE}/v1/status/leader`).catch(() => undefined);
      return r && r.status === 200 && r.text.includes(':8300');
    },
    { timeoutMs: 30_000, intervalMs: 250, context: () => group.tails(20) },
  );
}, 60_000);

afterAll(async () => {
  await group.killAll();
});

/** A child that records itself in `dir` and runs at most ~30 s (bounded even if never killed). */
function childScript(dir: string): string {
  return `echo $$ > ${dir}/pid; trap 'echo TERM > ${dir}/term; exit 0' TERM; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`;
}

function startLock(args: string[]): Proc {
  return group.spawn(`lock${++seq}`, process.execPath, [MUSTER, 'lock', ADDR, ...args]);
}

async function kvRaw(key: string): Promise<Array<{ Key: string; Session?: string; Value: string | null }> | null> {
  const r = await http(`${BASE}/v1/kv/${key}`);
  if (r.status === 404) return null;
  return JSON.parse(r.text);
}

/** Flags as digits from the raw JSON (they pass 2^53). */
async function flagsOf(key: string): Promise<string | null> {
  const r = await http(`${BASE}/v1/kv/${key}`);
  return r.status === 404 ? null : (/"Flags":(\d+)/.exec(r.text)?.[1] ?? null);
}

const sessions = async (): Promise<Array<{ ID: string; Name: string; TTL: string }>> => JSON.parse((await http(`${BASE}/v1/session/list`)).text);

async function waitFile(file: string, what: string, proc?: Proc): Promise<string> {
  return waitFor(what, async () => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim(), {
    timeoutMs: 15_000,
    context: () => group.tails(20, proc ? [proc] : undefined),
  });
}

describe('consul lock against a real agent', () => {
  it('holds <prefix>/.lock with the lock flag and a session while the child runs; others wait or time out; all is cleaned up', async () => {
    const dir = freshTempDir('lock-a');
    const holder = startLock(['-verbose', 'svc/leader', childScript(dir)]);
    await waitFile(path.join(dir, 'pid'), 'the child to start', holder);
    const entry = (await kvRaw('svc/leader/.lock'))![0]!;
    expect(await flagsOf('svc/leader/.lock')).toBe(LOCK_FLAG);
    const session = (await sessions()).find((s) => s.ID === entry.Session)!;
    expect(session).toMatchObject({ Name: `Consul lock for '${childScript(dir)}' at 'svc/leader'`, TTL: '15s' });

    // A second holder times out (-timeout bounds its wait) and leaves no session behind.
    const second = await runCli(['lock', ADDR, '-timeout=1s', 'svc/leader', 'echo never'], { timeoutMs: 20_000 });
    expect([second.code, second.stderr.trim(), second.stdout]).toEqual([1, 'Shutdown triggered or timeout during lock acquisition', '']);
    expect((await sessions()).map((s) => s.ID)).toEqual([entry.Session]);

    // Stop the holder: the child gets SIGTERM, the lock is released and the key removed.
    const code = await group.signalAndWait(holder, 'SIGTERM', 15_000);
    expect(code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'term'), 'utf8').trim()).toBe('TERM');
    expect(holder.output.join('\n')).toContain('Setting up lock at path: svc/leader/.lock');
    expect(await kvRaw('svc/leader/.lock')).toBeNull();
    expect(await sessions()).toEqual([]);
  }, 60_000);

  it('kills the child when the lock is lost (its session destroyed by someone else)', async () => {
    const dir = freshTempDir('lock-b');
    const holder = startLock(['lost/job', childScript(dir)]);
    await waitFile(path.join(dir, 'pid'), 'the child to start', holder);
    const sid = (await kvRaw('lost/job/.lock'))![0]!.Session!;
    await http(`${BASE}/v1/session/destroy/${sid}`, { method: 'PUT' });
    expect(await waitFile(path.join(dir, 'term'), 'the child to get SIGTERM', holder)).toBe('TERM');
    // Blocking reads wake on the release at once; 15 s bounds a slow box.
    expect(await withDeadline(holder.exited, 15_000, 'the lock command to exit after losing the lock')).toBe(0);
  }, 60_000);

  it('runs the child, and exits 2 for a failing child only with -child-exit-code', async () => {
    const ok = await runCli(['lock', ADDR, 'codes', 'echo ran; exit 0'], { timeoutMs: 20_000 });
    expect([ok.code, ok.stdout]).toEqual([0, 'ran\n']);
    const quiet = await runCli(['lock', ADDR, 'codes', 'exit 3'], { timeoutMs: 20_000 });
    expect([quiet.code, quiet.stderr.trim()]).toEqual([0, 'Error running handler: exit status 3']);
    const loud = await runCli(['lock', ADDR, '-child-exit-code', 'codes', 'exit 3'], { timeoutMs: 20_000 });
    expect(loud.code).toBe(2);
    const argv = await runCli(['lock', ADDR, '-shell=false', 'codes', 'echo', 'a  b'], { timeoutMs: 20_000 });
    expect(argv.stdout).toBe('a  b\n');
    expect(await kvRaw('codes/.lock')).toBeNull();
    expect(await sessions()).toEqual([]);
  }, 60_000);

  it('waits for a lock another Consul client holds, and takes it once released; refuses a key of another use', async () => {
    // What Consul's api.Lock does: a session, then PUT <key>?acquire=<session>&flags=<LockFlagValue>.
    const sid = JSON.parse((await http(`${BASE}/v1/session/create`, { method: 'PUT', body: '{"TTL":"15s","LockDelay":"0s"}' })).text).ID;
    const put = await http(`${BASE}/v1/kv/interop/.lock?acquire=${sid}&flags=${LOCK_FLAG}`, { method: 'PUT' });
    expect(put.text).toBe('true');
    const dir = freshTempDir('lock-c');
    const waiter = startLock(['interop', `echo got > ${dir}/pid`]);
    await sleep(1500);
    expect(fs.existsSync(path.join(dir, 'pid'))).toBe(false);
    await http(`${BASE}/v1/kv/interop/.lock?release=${sid}&flags=${LOCK_FLAG}`, { method: 'PUT' });
    expect(await waitFile(path.join(dir, 'pid'), 'the waiter to get the lock', waiter)).toBe('got');
    expect(await withDeadline(waiter.exited, 15_000, 'the waiter to finish')).toBe(0);
    await http(`${BASE}/v1/session/destroy/${sid}`, { method: 'PUT' });

    await http(`${BASE}/v1/kv/plain/.lock?flags=7`, { method: 'PUT', body: 'x' });
    const conflict = await runCli(['lock', ADDR, 'plain', 'echo never'], { timeoutMs: 20_000 });
    expect([conflict.code, conflict.stderr.trim()]).toEqual([1, 'Lock acquisition failed: Existing key does not match lock use']);
  }, 60_000);

  it('-n 2 is a semaphore in Consul layout: two holders at once, a third waits; a limit conflict is refused', async () => {
    const dirs = [freshTempDir('sem-a'), freshTempDir('sem-b')];
    const holders = dirs.map((d) => startLock(['-n', '2', 'pool', childScript(d)]));
    await Promise.all(dirs.map((d, i) => waitFile(path.join(d, 'pid'), `holder ${i} to start`, holders[i])));

    const lock = (await kvRaw('pool/.lock'))![0]!;
    expect(await flagsOf('pool/.lock')).toBe(SEMAPHORE_FLAG);
    const state = JSON.parse(Buffer.from(lock.Value!, 'base64').toString());
    expect(state.Limit).toBe(2);
    const holderIds = Object.keys(state.Holders).sort();
    expect(holderIds).toHaveLength(2);
    expect(Object.values(state.Holders)).toEqual([true, true]);
    // Each holder has a contender key <prefix>/<session> held by that session.
    for (const id of holderIds) {
      expect((await kvRaw(`pool/${id}`))![0]!.Session).toBe(id);
      expect(await flagsOf(`pool/${id}`)).toBe(SEMAPHORE_FLAG);
    }

    const third = await runCli(['lock', ADDR, '-n', '2', '-timeout=1s', 'pool', 'echo never'], { timeoutMs: 20_000 });
    expect([third.code, third.stderr.trim()]).toEqual([1, 'Shutdown triggered or timeout during lock acquisition']);
    const mismatch = await runCli(['lock', ADDR, '-n', '3', '-timeout=1s', 'pool', 'echo never'], { timeoutMs: 20_000 });
    expect([mismatch.code, mismatch.stderr.trim()]).toEqual([1, 'Lock acquisition failed: semaphore limit conflict (lock: 2, local: 3)']);

    for (const h of holders) expect(await group.signalAndWait(h, 'SIGTERM', 15_000)).toBe(0);
    // The last holder out deletes the semaphore; contender keys go with each holder.
    const left = await http(`${BASE}/v1/kv/pool/?recurse`);
    const keys = left.status === 404 ? [] : (JSON.parse(left.text) as Array<{ Key: string }>).map((e) => e.Key);
    expect(keys.filter((k) => holderIds.some((id) => k.endsWith(id)) || k === 'pool/.lock')).toEqual([]);
  }, 60_000);
});
