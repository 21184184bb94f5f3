// test/ui/ui-static.test.ts — serveUi: which paths are the UI's, redirects, files and
// content types, -ui-dir overriding the built-in bundle, and traversal attempts refused.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUiDir, serveUi, uiSegments, type UiResponse } from '../../transports/ui-static.ts';
import { ensureUiBuilt } from './build.ts';

let base: string;
let uiDir: string;
const SECRET = 'top-secret-not-for-the-ui';

const text = (r: UiResponse | null): string => new TextDecoder().decode(r!.body);
const get = (path: string, dir = uiDir) => serveUi({ uiDir: dir })({ method: 'GET', path });

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'muster-ui-'));
  uiDir = join(base, 'ui');
  mkdirSync(join(uiDir, 'assets', 'nested'), { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>custom ui</title>');
  writeFileSync(join(uiDir, 'assets', 'site.js'), 'console.log(1)');
  writeFileSync(join(uiDir, 'assets', 'site.css'), 'body{}');
  writeFileSync(join(uiDir, 'assets', 'blob.bin'), new Uint8Array([0, 1, 2]));
  writeFileSync(join(uiDir, 'assets', 'nested', 'index.html'), 'nested index');
  writeFileSync(join(base, 'secret.txt'), SECRET);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('routing', () => {
  it('redirects / and /ui to /ui/', () => {
    for (const p of ['/', '/ui', '/?pretty']) {
      const r = get(p);
      expect(r?.status, p).toBe(302);
      expect(r?.headers['Location']).toBe('/ui/');
    }
  });

  it('leaves API and other paths to the API handler', () => {
    for (const p of ['/v1/agent/self', '/v1/kv/ui/x', '/uix', '/ui-dir', '/favicon.ico']) expect(get(p), p).toBeNull();
    // Non-GET on "/" is the API's (Consul answers it), non-GET on /ui/ is refused here.
    expect(serveUi({ uiDir })({ method: 'PUT', path: '/' })).toBeNull();
    const post = serveUi({ uiDir })({ method: 'POST', path: '/ui/' });
    expect(post?.status).toBe(405);
    expect(post?.headers['Allow']).toBe('GET, HEAD');
  });

  it('serves index.html for /ui/ and files with their content types', () => {
    const index = get('/ui/');
    expect(index?.status).toBe(200);
    expect(index?.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(text(index)).toContain('custom ui');
    expect(get('/ui/assets/site.js')?.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(get('/ui/assets/site.css?v=3')?.headers['Content-Type']).toBe('text/css; charset=utf-8');
    expect(get('/ui/assets/blob.bin')?.headers['Content-Type']).toBe('application/octet-stream');
    expect(Array.from(get('/ui/assets/blob.bin')!.body)).toEqual([0, 1, 2]);
  });

  it('HEAD answers headers without a body', () => {
    const r = serveUi({ uiDir })({ method: 'HEAD', path: '/ui/assets/site.js' });
    expect(r?.status).toBe(200);
    expect(r?.headers['Content-Length']).toBe(String('console.log(1)'.length));
    expect(r?.body.length).toBe(0);
  });

  it('directories: redirect to the slash form, then their index.html; missing files 404', () => {
    const r = get('/ui/assets/nested');
    expect(r?.status).toBe(302);
    expect(r?.headers['Location']).toBe('/ui/assets/nested/');
    expect(text(get('/ui/assets/nested/'))).toBe('nested index');
    expect(get('/ui/assets/')?.status).toBe(404);
    const missing = get('/ui/nope.js');
    expect(missing?.status).toBe(404);
    expect(text(missing)).toContain('/ui/nope.js');
  });

  it('decodes percent-encoded names', () => {
    writeFileSync(join(uiDir, 'a b.txt'), 'spaced');
    expect(text(get('/ui/a%20b.txt'))).toBe('spaced');
  });
});

describe('path safety', () => {
  const attacks = [
    '/ui/../secret.txt',
    '/ui/assets/../../secret.txt',
    '/ui/%2e%2e/secret.txt',
    '/ui/%2E%2E/secret.txt',
    '/ui/..%2fsecret.txt',
    '/ui/..%2Fsecret.txt',
    '/ui/assets%2f..%2f..%2fsecret.txt',
    '/ui/..%5csecret.txt',
    '/ui/.%2e/secret.txt',
    '/ui/./index.html',
    '/ui/index.html%00.js',
    '/ui/%E0%A4%A',
  ];
  for (const p of attacks) {
    it(`refuses ${p}`, () => {
      const r = get(p);
      expect(r?.status).toBe(400);
      expect(text(r)).not.toContain(SECRET);
      expect(text(r)).toMatch(/Invalid UI path/);
    });
  }

  it('uiSegments keeps ordinary names and drops empty segments', () => {
    expect(uiSegments('a//b/c.js/')).toEqual({ segments: ['a', 'b', 'c.js'] });
    expect(uiSegments('...')).toEqual({ segments: ['...'] });
    expect(uiSegments('a/..')).toHaveProperty('error');
  });
});

describe('built-in bundle and -ui-dir', () => {
  it('serves the built-in bundle by default', () => {
    const dir = ensureUiBuilt();
    const serve = serveUi({});
    const index = serve({ method: 'GET', path: '/ui/' });
    expect(index?.status).toBe(200);
    expect(text(index)).toContain('<div id="app">');
    expect(text(index)).toContain('src="app.js"');
    const js = serve({ method: 'GET', path: '/ui/app.js' });
    expect(js?.status).toBe(200);
    expect(Buffer.from(js!.body).equals(readFileSync(join(dir, 'app.js')))).toBe(true);
    expect(serve({ method: 'GET', path: '/ui/app.css' })?.headers['Content-Type']).toBe('text/css; charset=utf-8');
  });

  it('-ui-dir replaces the built-in bundle', () => {
    ensureUiBuilt();
    expect(text(get('/ui/'))).toContain('custom ui');
    expect(get('/ui/app.js')?.status).toBe(404);
  });

  it('a -ui-dir that does not exist gives a clear error, and checkUiDir says why at start-up', () => {
    const gone = join(base, 'gone');
    const r = get('/ui/', gone);
    expect(r?.status).toBe(500);
    expect(text(r)).toContain('-ui-dir');
    expect(checkUiDir(gone)).toMatch(/no such directory/);
    expect(checkUiDir(join(uiDir, 'assets'))).toMatch(/has no index.html/);
    expect(checkUiDir(uiDir)).toBeNull();
  });
});
