// test/transports/probes.test.ts — RealProbes against real local servers and processes.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckSpec, ProbeResult } from '../../core/runtime/ports.ts';
import { CHECK_OUTPUT_CAP_BYTES, RealProbes } from '../../transports/probes.ts';

const IP = '127.0.0.4';
let server: http.Server;
let base: string;
let port: number;
const seenHeaders: http.IncomingHttpHeaders[] = [];
const openSockets = new Set<net.Socket>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seenHeaders.push(req.headers);
    switch (req.url) {
      case '/health':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('all good');
        return;
      case '/busy':
        res.writeHead(429).end('slow down');
        return;
      case '/broken':
        res.writeHead(500).end('oops');
        return;
      case '/big':
        res.writeHead(200).end('b'.repeat(10_000));
        return;
      case '/endless': {
        res.writeHead(200);
        const t = setInterval(() => res.write('z'.repeat(1024)), 5);
        res.on('close', () => clearInterval(t));
        return;
      }
      case '/hang':
        return; // never answers
      default:
        res.writeHead(404).end('not found');
    }
  });
  server.on('connection', (s) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: IP }, () => resolve()));
  port = (server.address() as net.AddressInfo).port;
  base = `http://${IP}:${port}`;
});

afterAll(async () => {
  for (const s of openSockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const probes = new RealProbes();

function run(spec: CheckSpec): Promise<ProbeResult & { ms: number; calls: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    let calls = 0;
    let inside = true;
    probes.run(spec, (r) => {
      calls++;
      if (inside) throw new Error('done was called from inside run()');
      // Give a second (wrong) call a chance to show up before resolving.
      setTimeout(() => resolve({ ...r, ms: Date.now() - start, calls }), 20);
    });
    inside = false;
  });
}

const httpSpec = (url: string, timeoutMs = 2000, method = 'GET', header: Record<string, string[]> = {}): CheckSpec => ({
  type: 'http',
  url,
  method,
  header,
  timeoutMs,
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen({ port: 0, host: IP }, () => resolve()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

describe('http probe', () => {
  it('2xx is passing with Consul-style output', async () => {
    const r = await run(httpSpec(`${base}/health`));
    expect(r).toMatchObject({ status: 'passing', output: `HTTP GET ${base}/health: 200 OK Output: all good`, calls: 1 });
  });

  it('429 is warning, 500 and 404 are critical', async () => {
    expect(await run(httpSpec(`${base}/busy`))).toMatchObject({
      status: 'warning',
      output: `HTTP GET ${base}/busy: 429 Too Many Requests Output: slow down`,
    });
    expect(await run(httpSpec(`${base}/broken`))).toMatchObject({
      status: 'critical',
      output: `HTTP GET ${base}/broken: 500 Internal Server Error Output: oops`,
    });
    expect((await run(httpSpec(`${base}/missing`))).status).toBe('critical');
  });

  it('sends the method and headers given, with defaults a user header overrides', async () => {
    seenHeaders.length = 0;
    await run(httpSpec(`${base}/health`, 2000, 'POST', { 'X-Check': ['a', 'b'], 'user-agent': ['mine'] }));
    expect(seenHeaders[0]!['x-check']).toBe('a, b');
    expect(seenHeaders[0]!['user-agent']).toBe('mine');
    seenHeaders.length = 0;
    await run(httpSpec(`${base}/health`));
    expect(seenHeaders[0]!['user-agent']).toBe('Consul Health Check');
  });

  it('caps the body at 4 KB, even for an endless body', async () => {
    const big = await run(httpSpec(`${base}/big`));
    expect(big.output).toBe(`HTTP GET ${base}/big: 200 OK Output: ${'b'.repeat(CHECK_OUTPUT_CAP_BYTES)}`);
    const endless = await run(httpSpec(`${base}/endless`, 3000));
    expect(endless.status).toBe('passing');
    expect(endless.output.length).toBe(`HTTP GET ${base}/endless: 200 OK Output: `.length + CHECK_OUTPUT_CAP_BYTES);
    expect(endless.ms).toBeLessThan(2000);
  });

  it('connection refused is critical with a dial error', async () => {
    const p = await closedPort();
    const r = await run(httpSpec(`http://${IP}:${p}/health`));
    expect(r).toMatchObject({
      status: 'critical',
      output: `Get http://${IP}:${p}/health: dial tcp ${IP}:${p}: connect: connection refused`,
    });
  });

  it('a server that never answers times out as critical', async () => {
    const r = await run(httpSpec(`${base}/hang`, 300));
    expect(r.status).toBe('critical');
    expect(r.output).toBe(`Get ${base}/hang: net/http: request canceled (Client.Timeout exceeded while awaiting headers)`);
    expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(r.ms).toBeLessThan(1500);
  });

  it('a bad url is critical with an explanation, not a throw', async () => {
    expect(await run(httpSpec('localhost:5000/health'))).toMatchObject({ status: 'critical' });
    expect((await run(httpSpec('::nope'))).output).toMatch(/not a valid URL/);
  });
});

describe('tcp probe', () => {
  it('connect is passing, refused is critical', async () => {
    expect(await run({ type: 'tcp', addr: `${IP}:${port}`, timeoutMs: 1000 })).toMatchObject({
      status: 'passing',
      output: `TCP connect ${IP}:${port}: Success`,
    });
    const p = await closedPort();
    expect(await run({ type: 'tcp', addr: `${IP}:${p}`, timeoutMs: 1000 })).toMatchObject({
      status: 'critical',
      output: `dial tcp ${IP}:${p}: connect: connection refused`,
    });
    expect((await run({ type: 'tcp', addr: 'no-port', timeoutMs: 1000 })).output).toMatch(/is not host:port/);
  });
});

describe('script probe', () => {
  it('maps exit 0 / 1 / other to passing / warning / critical with combined output', async () => {
    expect(await run({ type: 'script', args: ['sh', '-c', 'echo fine'], timeoutMs: 5000 })).toMatchObject({
      status: 'passing',
      output: 'fine\n',
    });
    expect(await run({ type: 'script', args: ['sh', '-c', 'echo meh >&2; exit 1'], timeoutMs: 5000 })).toMatchObject({
      status: 'warning',
      output: 'meh\n',
    });
    expect(await run({ type: 'script', args: ['sh', '-c', 'echo bad; exit 2'], timeoutMs: 5000 })).toMatchObject({
      status: 'critical',
      output: 'bad\n',
    });
  });

  it('keeps the last 4 KB of output', async () => {
    const r = await run({
      type: 'script',
      args: ['sh', '-c', 'head -c 10000 /dev/zero | tr "\\000" a; echo END'],
      timeoutMs: 5000,
    });
    expect(r.status).toBe('passing');
    const [head, dots, kept] = r.output.split('\n', 3);
    expect(head).toBe(`Captured ${CHECK_OUTPUT_CAP_BYTES} of 10004 bytes`);
    expect(dots).toBe('...');
    const body = r.output.slice(head!.length + dots!.length + 2);
    expect(body.length).toBe(CHECK_OUTPUT_CAP_BYTES);
    expect(body.endsWith('aaaEND\n')).toBe(true);
    expect(kept!.startsWith('aaa')).toBe(true);
  });

  it('kills a script that overruns its timeout, children included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muster-probe-'));
    const pidFile = path.join(dir, 'pids');
    try {
      const r = await run({
        type: 'script',
        args: ['sh', '-c', `sleep 30 & echo "$$ $!" > ${pidFile}; wait`],
        timeoutMs: 400,
      });
      expect(r).toMatchObject({ status: 'critical', output: 'Timed out (400ms) running check' });
      expect(r.ms).toBeLessThan(2000);
      const pids = fs.readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
      expect(pids).toHaveLength(2);
      // A killed grandchild is a zombie until whoever adopted it reaps it; zombies run nothing.
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
        } catch {
          return false;
        }
        try {
          return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + 2000;
      while (pids.some(alive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing command or empty args is critical with an explanation', async () => {
    expect(await run({ type: 'script', args: ['/nonexistent/check-thing'], timeoutMs: 1000 })).toMatchObject({
      status: 'critical',
      output: 'exec: "/nonexistent/check-thing": executable file not found in $PATH',
    });
    expect((await run({ type: 'script', args: [], timeoutMs: 1000 })).output).toMatch(/no command/);
    expect((await run({ type: 'script', args: ['true'], timeoutMs: 0 })).output).toMatch(/timeout must be a positive/);
  });
});
