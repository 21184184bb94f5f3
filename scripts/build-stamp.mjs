// scripts/build-stamp.mjs — where the compiled CLI lives and whether it is fresh.
//
// Owns: the layout of dist/js (one folder per build, `dist/js/current` a symlink to the one
// in use), the stamp format (build.json in a build folder: the moment the build started, on
// the file system's own clock, and the source files and folders that went into it) and the
// freshness rule bin/muster.mjs applies at every start.
// Must never: import anything beyond node:fs/node:path/node:url, or cost more than one stat
// per source: it runs before every `muster` command.
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const BUILDS_DIR = join(ROOT, 'dist', 'js');
export const CURRENT = 'current';
export const STAMP = 'build.json';

/** Last change of a path: mtime can be set back by tools (cp -p, tar, rsync -t); ctime cannot. */
export function changedAtMs(st) {
  return Math.max(st.mtimeMs, st.ctimeMs);
}

/** The build folder `current` points at (resolved once, so a concurrent rebuild cannot mix two), or null. */
export function currentBuild(buildsDir = BUILDS_DIR) {
  try {
    return join(buildsDir, readlinkSync(join(buildsDir, CURRENT)));
  } catch {
    return null;
  }
}

/**
 * Why the build in `dir` must not run for the sources under `rootDir`, or null when it may:
 * no build, an unreadable stamp, or a source file or source folder (a file added or removed)
 * that is gone or changed at or after the moment the build started.
 */
export function staleReason(dir, rootDir = ROOT) {
  if (dir === null) return 'no build';
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8'));
  } catch {
    return 'no build';
  }
  if (!stamp || typeof stamp.startedAtMs !== 'number' || !Array.isArray(stamp.inputs) || !Array.isArray(stamp.dirs)) {
    return `unreadable ${join(dir, STAMP)}`;
  }
  for (const rel of stamp.inputs.concat(stamp.dirs)) {
    const st = statSync(join(rootDir, rel), { throwIfNoEntry: false });
    if (st === undefined) return `${rel} is gone`;
    if (changedAtMs(st) >= stamp.startedAtMs) return `${rel} changed after the build`;
  }
  return null;
}
