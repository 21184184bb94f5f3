#!/usr/bin/env node
// bin/muster.mjs — the `muster` / `consul` entry: runs the compiled CLI (dist/js/current, written
// by scripts/build.mjs at `npm install`) when it is fresh, else the TypeScript sources via tsx.
//
// Must never: run a stale build. Several checkouts (git worktrees) edit sources and run this
// file. Before every start the build's stamp is checked against its sources (one stat each,
// scripts/build-stamp.mjs). A built checkout whose sources changed is rebuilt once (≈1 s; if
// another process is already rebuilding, or the build fails, this run uses tsx); a checkout
// never built runs tsx. MUSTER_BUILD=tsx forces the sources, MUSTER_BUILD=js insists on a fresh
// build (exit 2 with the reason), MUSTER_BUILD_DEBUG=1 says on stderr which code ran and why.
import { currentBuild, staleReason } from '../scripts/build-stamp.mjs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const mode = process.env.MUSTER_BUILD ?? '';
const debug = process.env.MUSTER_BUILD_DEBUG === '1' ? (text) => process.stderr.write(`muster: ${text}\n`) : () => {};
if (mode !== '' && mode !== 'js' && mode !== 'tsx') {
  process.stderr.write(`muster: MUSTER_BUILD must be 'js' or 'tsx' (or unset), got '${mode}'\n`);
  process.exit(2);
}

let dir = mode === 'tsx' ? null : currentBuild();
let why = mode === 'tsx' ? 'MUSTER_BUILD=tsx' : staleReason(dir);
if (why !== null && dir !== null && mode !== 'tsx') {
  debug(`rebuilding: ${why}`);
  try {
    const { build } = await import('../scripts/build.mjs');
    const r = await build({ wait: mode === 'js', quiet: true });
    if (r === null) debug('another process is rebuilding');
    else {
      dir = r.out;
      why = staleReason(dir);
    }
  } catch (err) {
    debug(`rebuild failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}
if (mode === 'js' && why !== null) {
  process.stderr.write(`muster: MUSTER_BUILD=js but the build is not usable: ${why}\n`);
  process.exit(2);
}
debug(why === null ? `running ${dir}` : `running the sources via tsx (${why})`);

let main;
if (why === null) {
  ({ main } = await import(pathToFileURL(join(dir, 'muster.mjs')).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(join(root, 'cli', 'main.ts')).href));
}
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
