// test/cli/build-freshness.test.ts — bin/muster.mjs never runs a stale compiled build.
//
// Each case works on a throw-away copy of the checkout (sources, bin, scripts, and a link to
// node_modules), so building there never disturbs this checkout's dist/ or other test files.
// MUSTER_BUILD_DEBUG=1 makes bin/muster.mjs say on stderr which code it ran.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const COPY = ['bin', 'scripts', 'cli', 'core', 'sim', 'transports', 'scenarios', 'package.json'];
const VERSION_TS = 'cli/commands/version.ts';

let dir = '';

function muster(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'muster.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MUSTER_BUILD_DEBUG: '1', MUSTER_BUILD: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function build(): void {
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts', 'build.mjs')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
}

/** Rewrite the version line in the copy's sources (an edit a stale build would not show). */
function setVersionText(text: string): void {
  const p = path.join(dir, VERSION_TS);
  const src = fs.readFileSync(p, 'utf8').replace(/io\.stdout\(`Muster [^`]*`\);|io\.stdout\('[^']*'\);/, `io.stdout('${text}\\n');`);
  fs.writeFileSync(p, src);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muster-build-test-'));
  for (const name of COPY) fs.cpSync(path.join(REPO, name), path.join(dir, name), { recursive: true });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('bin/muster.mjs and the compiled build', () => {
  it('runs the sources through tsx in a checkout that was never built', () => {
    setVersionText('v-never-built');
    const r = muster(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('v-never-built\nConsul Protocol: 2 (Understands back to: 1)\n');
    expect(r.stderr).toContain('via tsx (no build)');
  });

  it('runs the compiled build when it is fresh, and MUSTER_BUILD=js insists on it', () => {
    setVersionText('v-built');
    build();
    const r = muster(['version']);
    expect(r.stdout.split('\n')[0]).toBe('v-built');
    expect(r.stderr).toMatch(/running .*dist\/js\/b[^ ]*\n/);
    expect(muster(['version'], { MUSTER_BUILD: 'js' }).code).toBe(0);
  });

  it('rebuilds after a source edit and runs the edited code, never the stale build', () => {
    setVersionText('v-edited');
    const r = muster(['version']);
    expect(r.stdout.split('\n')[0]).toBe('v-edited');
    expect(r.stderr).toContain(`rebuilding: ${VERSION_TS} changed after the build`);
    expect(r.stderr).toMatch(/running .*dist\/js\/b/);
    // Fresh again: the next start runs the new build without rebuilding.
    const again = muster(['version']);
    expect(again.stdout.split('\n')[0]).toBe('v-edited');
    expect(again.stderr).not.toContain('rebuilding');
  });

  it('catches an edit whose mtime was set back (ctime still moves)', () => {
    build();
    setVersionText('v-backdated');
    const old = new Date(Date.now() - 86_400_000);
    fs.utimesSync(path.join(dir, VERSION_TS), old, old);
    const r = muster(['version']);
    expect(r.stdout.split('\n')[0]).toBe('v-backdated');
    expect(r.stderr).toContain('changed after the build');
  });

  it('falls back to tsx when another process holds the build lock', () => {
    build();
    setVersionText('v-locked');
    const lock = path.join(dir, 'dist', 'js', '.lock');
    fs.writeFileSync(lock, '');
    try {
      const r = muster(['version']);
      expect(r.stdout.split('\n')[0]).toBe('v-locked');
      expect(r.stderr).toContain('another process is rebuilding');
      expect(r.stderr).toContain('via tsx');
    } finally {
      fs.rmSync(lock, { force: true });
    }
  });

  it('sees a new source file imported by an edited one', () => {
    build();
    fs.writeFileSync(path.join(dir, 'cli', 'commands', 'version-extra.ts'), "export const EXTRA = 'v-new-file';\n");
    const p = path.join(dir, VERSION_TS);
    const src = fs.readFileSync(p, 'utf8');
    fs.writeFileSync(
      p,
      `import { EXTRA } from './version-extra.ts';\n${src.replace(/io\.stdout\('[^']*'\);/, 'io.stdout(`${EXTRA}\\n`);')}`,
    );
    const r = muster(['version']);
    expect(r.stdout.split('\n')[0]).toBe('v-new-file');
    const stamp = JSON.parse(fs.readFileSync(path.join(dir, 'dist', 'js', 'current', 'build.json'), 'utf8')) as { inputs: string[] };
    expect(stamp.inputs).toContain('cli/commands/version-extra.ts');
  });

  it('rejects a bad MUSTER_BUILD value with a clear message', () => {
    const r = muster(['version'], { MUSTER_BUILD: 'fast' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("MUSTER_BUILD must be 'js' or 'tsx'");
  });
});
