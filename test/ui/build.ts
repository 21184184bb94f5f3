// test/ui/build.ts — makes sure dist/ui holds a bundle at least as new as ui/ and the build
// script, building it (node scripts/build-ui.mjs) when it is missing or stale.
// Test-only helper; the install step builds it for real use.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_UI_DIR } from '../../transports/ui-static.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function mtimeOr0(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

export function ensureUiBuilt(): string {
  const sources = Math.max(newestMtimeMs(join(ROOT, 'ui')), mtimeOr0(join(ROOT, 'scripts', 'build-ui.mjs')));
  const built = Math.min(...['index.html', 'app.js', 'app.css'].map((f) => mtimeOr0(join(BUILTIN_UI_DIR, f))));
  if (built === 0 || built < sources) {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-ui.mjs')], { cwd: ROOT, stdio: 'pipe' });
  }
  return BUILTIN_UI_DIR;
}
