// cli/bench/cli.ts — `muster bench cli`: start-to-exit time of `muster version` and
// `muster members` (against a real agent), beside `node -e 0` measured in the same run, and
// which code ran (the compiled build in dist/js, or the sources through tsx when it is stale).
//
// Owns: spawning the runs (interleaved, so load from other processes hits all alike), the
// throw-away dev agent on 127.22.0.2 that `members` talks to, and the report (one JSON line).
// Must never: run inside tests, fail on a timing, or signal a process it did not start.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MUSTER_BIN = path.join(REPO, 'bin', 'muster.mjs');
const AGENT_IP = '127.22.0.2';
const HTTP_PORT = 18500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function runOnce(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null; out: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ ms: performance.now() - t0, code, out });
    });
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export async function benchCli(args: string[]): Promise<number> {
  let runs = 15;
  for (const a of args) {
    const m = /^--runs=(\d+)$/.exec(a);
    if (!m || Number(m[1]) < 1) {
      process.stderr.write(`muster bench cli: unknown argument '${a}'; usage: muster bench cli [--runs=15]\n`);
      return 1;
    }
    runs = Number(m[1]);
  }
  const which = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'build.mjs'), '--check'], { encoding: 'utf8' });
  const buildState = (which.stdout || which.stderr).trim();
  process.stdout.write(`${buildState}\n`);

  const dataDir = mkdtempSync(path.join(tmpdir(), 'muster-bench-cli-'));
  const agent = spawn(
    process.execPath,
    [MUSTER_BIN, 'agent', '-dev', '-node=bench-cli', `-bind=${AGENT_IP}`, `-client=${AGENT_IP}`, `-http-port=${HTTP_PORT}`, '-dns-port=18600', '-data-dir', dataDir, '-log-level=err'],
    { stdio: 'ignore' },
  );
  const env = { ...process.env, CONSUL_HTTP_ADDR: `${AGENT_IP}:${HTTP_PORT}` };
  try {
    // Wait until `members` answers (the agent is up and has its own member).
    const deadline = performance.now() + 60_000;
    for (;;) {
      const r = await runOnce([MUSTER_BIN, 'members'], env);
      if (r.code === 0 && r.out.includes('bench-cli')) break;
      if (performance.now() > deadline) throw new Error(`the agent on ${AGENT_IP} never answered 'members': ${r.out.trim()}`);
      await sleep(200);
    }
    const cases: Array<{ name: string; args: string[]; ms: number[] }> = [
      { name: 'node -e 0', args: ['-e', '0'], ms: [] },
      { name: 'muster version', args: [MUSTER_BIN, 'version'], ms: [] },
      { name: 'muster members', args: [MUSTER_BIN, 'members'], ms: [] },
    ];
    for (const c of cases) await runOnce(c.args, env); // warm the page cache
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < cases.length; j++) {
        const c = cases[(i + j) % cases.length]!;
        const r = await runOnce(c.args, env);
        if (r.code !== 0) throw new Error(`'${c.name}' exited ${r.code}: ${r.out.trim()}`);
        c.ms.push(r.ms);
      }
    }
    process.stdout.write(`${runs} interleaved runs each, start to exit (spawn included)\n`);
    for (const c of cases) {
      process.stdout.write(`  ${c.name.padEnd(16)} median ${quantile(c.ms, 0.5).toFixed(0).padStart(5)} ms  p90 ${quantile(c.ms, 0.9).toFixed(0).padStart(5)} ms  min ${Math.min(...c.ms).toFixed(0)} ms\n`);
    }
    const [base, version, members] = cases.map((c) => quantile(c.ms, 0.5)) as [number, number, number];
    const summary = {
      bench: 'cli',
      runs,
      build: buildState,
      medianMs: { node: Math.round(base), version: Math.round(version), members: Math.round(members) },
      overNodeMs: { version: Math.round(version - base), members: Math.round(members - base) },
      ratios: { versionVsNode: Number((version / base).toFixed(2)), membersVsNode: Number((members / base).toFixed(2)) },
      goal: 'version and members median < 150 ms',
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`muster bench cli: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (agent.pid !== undefined && agent.exitCode === null) agent.kill('SIGKILL');
    await sleep(100);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
