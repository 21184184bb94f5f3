#!/usr/bin/env node
// scripts/build.mjs — compiles the `muster` CLI (TypeScript) to JavaScript once, so
// `bin/muster.mjs` starts in tens of milliseconds instead of compiling through tsx at every
// start. Runs at install time (package.json `prepare`, with the UI bundle), as `npm run build`,
// and from bin/muster.mjs when a build exists but its sources changed since.
//
// Owns: the compiled layout (dist/js/<id>/*.mjs, code-split so a subcommand loads only what it
// imports), its stamp (scripts/build-stamp.mjs), switching `dist/js/current` to a new build,
// and removing builds nobody can still be loading.
// Must never: change a build folder a process may be running from. A new build gets a new
// folder; `current` is swapped by rename; old folders are removed only a day after they were
// replaced; one build at a time (a lock file), so parallel test processes do not all rebuild.
//
// Usage: node scripts/build.mjs [--check]   (--check: say whether the build is fresh; exit 0/1)
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILDS_DIR, CURRENT, ROOT, STAMP, currentBuild, staleReason } from './build-stamp.mjs';

/** The one entry point; every other module is reached through its (static or dynamic) imports. */
const ENTRY = 'cli/main.ts';
const LOCK = '.lock';
/** A lock older than this was left by a build that died. */
const LOCK_STALE_MS = 120_000;
/** A replaced build is kept this long: a long-running process may still import its chunks. */
const KEEP_OLD_MS = 24 * 3600_000;

/** A bundle resolves `import.meta.url` to its chunk; give each module its own source URL back. */
function sourceUrlPlugin(outdir) {
  return {
    name: 'source-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.(ts|tsx)$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        // Chunks all live in outdir, so the source's path relative to it is the same at run time.
        const rel = relative(outdir, args.path).split(sep).join('/');
        const contents = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`);
        return { contents, loader: args.path.endsWith('.tsx') ? 'tsx' : 'ts' };
      });
    },
  };
}

/** Take the build lock, or return null when another live build holds it. */
function lock(buildsDir) {
  const path = join(buildsDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(path, 'wx'));
      return () => rmSync(path, { force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const st = statSync(path, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs < LOCK_STALE_MS) return null;
      rmSync(path, { force: true });
    }
  }
  return null;
}

/**
 * Build into a new folder and point `current` at it. Returns null (and builds nothing) when
 * another build holds the lock and `wait` is false; with `wait`, waits for it (up to 2 minutes).
 */
export async function build({ buildsDir = BUILDS_DIR, wait = true, quiet = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('esbuild is not installed: run `npm install` in the project root (it is a dependency)');
  }
  mkdirSync(buildsDir, { recursive: true });
  let unlock = lock(buildsDir);
  const waitUntil = Date.now() + LOCK_STALE_MS;
  while (unlock === null) {
    if (!wait || Date.now() > waitUntil) return null;
    await new Promise((r) => setTimeout(r, 100));
    unlock = lock(buildsDir);
  }
  try {
    const id = `b${Date.now().toString(36)}-${process.pid}`;
    const out = join(buildsDir, id);
    mkdirSync(out);
    // The start, on the file system's clock (what source mtimes are compared with): any source
    // saved from now on counts as newer than this build.
    const marker = join(out, '.started');
    writeFileSync(marker, '');
    const startedAtMs = statSync(marker).mtimeMs;
    const t0 = Date.now();
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: { muster: join(ROOT, ENTRY) },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: ['node20'],
      packages: 'external',
      outdir: out,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      jsx: 'automatic',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'silent',
      plugins: [sourceUrlPlugin(out)],
    });
    if (!quiet) for (const w of result.warnings) console.warn(`build: warning: ${w.text}`);
    const inputs = Object.keys(result.metafile.inputs)
      .filter((p) => !p.split('/').includes('node_modules'))
      .sort();
    const dirs = [...new Set(inputs.map((p) => p.split('/').slice(0, -1).join('/') || '.'))].sort();
    writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(out, STAMP), `${JSON.stringify({ startedAtMs, node: process.version, entry: ENTRY, inputs, dirs }, null, 1)}\n`);
    const replaced = currentBuild(buildsDir);
    const link = join(buildsDir, `.${CURRENT}-${id}`);
    symlinkSync(id, link);
    renameSync(link, join(buildsDir, CURRENT));
    // The folder's mtime now says when it stopped being current (removeOldBuilds counts from it).
    if (replaced !== null) {
      const now = new Date();
      try {
        utimesSync(replaced, now, now);
      } catch {
        // already gone
      }
    }
    removeOldBuilds(buildsDir, id);
    const files = readdirSync(out).filter((f) => f.endsWith('.mjs')).length;
    return { out, id, ms: Date.now() - t0, files, inputs: inputs.length };
  } finally {
    unlock();
  }
}

/** Remove build folders replaced more than a day ago (and ones a dead build left half-made). */
function removeOldBuilds(buildsDir, keep) {
  for (const name of readdirSync(buildsDir)) {
    if (name === keep || name === CURRENT || name === LOCK) continue;
    const p = join(buildsDir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > KEEP_OLD_MS) rmSync(p, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--check') {
    const why = staleReason(currentBuild());
    console.log(why === null ? `build: ${relative(process.cwd(), currentBuild())} is fresh` : `build: not used: ${why}`);
    process.exitCode = why === null ? 0 : 1;
  } else if (args.length > 0) {
    console.error(`build: unknown argument ${JSON.stringify(args[0])} (usage: node scripts/build.mjs [--check])`);
    process.exitCode = 2;
  } else {
    try {
      const r = await build();
      console.log(`build: wrote ${relative(process.cwd(), r.out)} (${r.files} files from ${r.inputs} sources) in ${r.ms} ms`);
    } catch (err) {
      const errors = err && Array.isArray(err.errors) ? err.errors : null;
      if (errors) {
        for (const e of errors) {
          const at = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
          console.error(`build: error: ${at}${e.text}`);
        }
      } else console.error(`build: error: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
}
