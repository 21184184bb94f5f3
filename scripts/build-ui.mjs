#!/usr/bin/env node
// scripts/build-ui.mjs — bundles the browser UI (ui/main.tsx + ui/style.css + ui/index.html)
// into dist/ui/ with esbuild: index.html, app.js, app.css. Runs at install time
// (package.json `prepare`) and from tests when the bundle is missing or older than ui/.
//
// Owns: the bundle layout the agent serves at /ui/ (transports/ui-static.ts).
// Must never: fetch anything over the network or leave a half-written file behind: every
// output file is written to a temporary name and renamed, so concurrent builds (parallel
// test files) and a reader in between always see whole files.
//
// Usage: node scripts/build-ui.mjs [--out DIR] [--dev]
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function parseArgs(argv) {
  const opts = { out: join(root, 'dist', 'ui'), dev: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') {
      const v = argv[++i];
      if (!v) throw new Error('--out needs a directory, e.g. --out dist/ui');
      opts.out = resolve(v);
    } else if (a === '--dev') opts.dev = true;
    else throw new Error(`unknown argument ${JSON.stringify(a)} (use --out DIR and/or --dev)`);
  }
  return opts;
}

function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export async function buildUi({ out = join(root, 'dist', 'ui'), dev = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('esbuild is not installed: run `npm install` in the project root (it is a dependency)');
  }
  const started = Date.now();
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: join(root, 'ui', 'main.tsx') },
    bundle: true,
    write: false,
    outdir: out,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    jsx: 'automatic',
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
    logLevel: 'silent',
  });
  for (const w of result.warnings) console.warn(`build-ui: warning: ${w.text}`);
  mkdirSync(out, { recursive: true });
  const sizes = [];
  for (const f of result.outputFiles) {
    writeAtomic(f.path, f.contents);
    sizes.push(`${relative(out, f.path)} ${(f.contents.length / 1024).toFixed(1)} KB`);
  }
  writeAtomic(join(out, 'index.html'), readFileSync(join(root, 'ui', 'index.html')));
  return { out, ms: Date.now() - started, sizes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = await buildUi(parseArgs(process.argv.slice(2)));
    console.log(`build-ui: wrote ${relative(process.cwd(), r.out) || '.'} (${r.sizes.join(', ')}, index.html) in ${r.ms} ms`);
  } catch (err) {
    const errors = err && Array.isArray(err.errors) ? err.errors : null;
    if (errors) {
      for (const e of errors) {
        const at = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
        console.error(`build-ui: error: ${at}${e.text}`);
      }
    } else console.error(`build-ui: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
