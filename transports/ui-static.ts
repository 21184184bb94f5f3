// transports/ui-static.ts — serves the web UI from the agent's HTTP address: the built-in
// bundle (dist/ui, built by scripts/build-ui.mjs) or, as Consul's -ui-dir does, the files of
// an operator-given directory. `/` redirects to `/ui/`.
//
// Owns: which requests are UI requests, safe mapping of a URL path to a file under the UI
// root, content types, and clear errors (bundle not built, bad path, wrong method).
// Must never: answer API paths (it returns null so the API handler runs), read outside the
// UI root (`..`, encoded slashes, NUL and backslashes are refused before touching the disk),
// or throw into the HTTP server.
import { readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface UiRequest {
  method: string;
  /** URL path, still percent-encoded; a query string, if present, is ignored. */
  path: string;
}

export interface UiResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface ServeUiOptions {
  /** Serve this directory instead of the built-in bundle (Consul's -ui-dir). */
  uiDir?: string;
}

/** Where scripts/build-ui.mjs writes the bundle, relative to this file. */
export const BUILTIN_UI_DIR = fileURLToPath(new URL('../dist/ui/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

const encoder = new TextEncoder();

function textResponse(status: number, message: string, headers: Record<string, string> = {}): UiResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers },
    body: encoder.encode(message.endsWith('\n') ? message : `${message}\n`),
  };
}

function redirect(location: string): UiResponse {
  return { status: 302, headers: { Location: location, 'Content-Type': 'text/plain; charset=utf-8' }, body: encoder.encode(`Found: ${location}\n`) };
}

/** For agent start-up: why DIR cannot be a -ui-dir, or null when it can (Consul refuses to start too). */
export function checkUiDir(dir: string): string | null {
  if (!isDirectory(dir)) return `-ui-dir ${dir}: no such directory`;
  try {
    if (!statSync(join(dir, 'index.html')).isFile()) return `-ui-dir ${dir}: index.html is not a file`;
  } catch {
    return `-ui-dir ${dir}: has no index.html (point it at the directory that holds the UI's index.html)`;
  }
  return null;
}

/**
 * The path under the UI root as safe segments, or an error message. Decoding happens per
 * segment so an encoded "/" (%2F) cannot smuggle in a separator, and "." / ".." are refused
 * outright rather than normalised, so nothing ever resolves above the root.
 */
export function uiSegments(rest: string): { segments: string[] } | { error: string } {
  const raw = rest.split('/');
  const segments: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const part = raw[i]!;
    if (part === '') {
      // Empty segments come from "//" or a trailing "/": harmless, skip.
      continue;
    }
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      return { error: `bad percent-encoding in ${JSON.stringify(part)}` };
    }
    if (seg === '.' || seg === '..') return { error: `"${seg}" segments are not allowed in UI paths` };
    if (/[/\\\0]/.test(seg)) return { error: `segment ${JSON.stringify(seg)} contains a slash, backslash or NUL` };
    segments.push(seg);
  }
  return { segments };
}

function fileResponse(file: string, head: boolean): UiResponse | null {
  let body: Uint8Array;
  try {
    body = readFileSync(file);
  } catch {
    return null;
  }
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  return {
    status: 200,
    headers: {
      'Content-Type': type,
      'Content-Length': String(body.length),
      // The bundle's file names carry no hash, so the browser must revalidate each time.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    },
    body: head ? new Uint8Array() : body,
  };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A request handler for the UI. Returns null for anything that is not a UI path (the
 * caller then hands the request to the API handler).
 */
export function serveUi(opts: ServeUiOptions = {}): (req: UiRequest) => UiResponse | null {
  const root = resolve(opts.uiDir ?? BUILTIN_UI_DIR);
  const fromUiDir = opts.uiDir !== undefined;
  return (req) => {
    const q = req.path.indexOf('?');
    const path = q >= 0 ? req.path.slice(0, q) : req.path;
    const isUi = path === '/ui' || path.startsWith('/ui/');
    if (path !== '/' && !isUi) return null;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // "/" with other methods stays the API's (it answers 404/405 as Consul does).
      if (!isUi) return null;
      return textResponse(405, `method ${req.method} not allowed on the UI (use GET)`, { Allow: 'GET, HEAD' });
    }
    if (path === '/' || path === '/ui') return redirect('/ui/');

    const parsed = uiSegments(path.slice('/ui/'.length));
    if ('error' in parsed) return textResponse(400, `Invalid UI path ${JSON.stringify(path)}: ${parsed.error}`);

    if (!isDirectory(root)) {
      return fromUiDir
        ? textResponse(500, `UI directory ${root} does not exist or is not a directory (check -ui-dir)`)
        : textResponse(
            503,
            `The built-in UI is not built (${root} is missing): run \`node scripts/build-ui.mjs\` (npm install runs it), or start the agent with -ui-dir DIR`,
          );
    }
    let file = join(root, ...parsed.segments);
    // Belt and braces: the segments are already clean, but never serve above the root.
    if (file !== root && !file.startsWith(root + sep)) return textResponse(400, `Invalid UI path ${JSON.stringify(path)}`);
    if (isDirectory(file)) {
      if (!path.endsWith('/')) return redirect(`${path}/`);
      file = join(file, 'index.html');
    }
    const res = fileResponse(file, req.method === 'HEAD');
    if (res) return res;
    if (parsed.segments.length === 0 && !fromUiDir) {
      return textResponse(503, `The built-in UI is incomplete (${file} is missing): run \`node scripts/build-ui.mjs\``);
    }
    return textResponse(404, `UI file not found: ${path}`);
  };
}
