// cli/bench/http.ts — `muster bench http`: requests/s and p99 latency of the HTTP API
// (express adapter + core handler + in-process catalog backend) beside a bare express app
// and a bare node:http server answering a fixed JSON, all driven by the same keep-alive
// load generator in the same run. Figures are reported as ratios against those baselines.
//
// Owns: the load generator (N persistent connections, one request in flight on each, raw
// HTTP/1.1 over net sockets so the client costs as little as possible) and the report.
// Must never: run inside tests, or fail on a timing.
import express from 'express';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRealAgent } from '../commands/agent.ts';

function devNull(): NodeJS.WritableStream {
  return createWriteStream('/dev/null');
}

interface Result {
  name: string;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const FIXED_JSON = JSON.stringify([
  { CreateIndex: 5, ModifyIndex: 5, LockIndex: 0, Key: 'k', Flags: 0, Value: 'dmFsdWU=' },
]);

function arg(args: string[], name: string, dflt: number): number {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return dflt;
  const a = args[i]!;
  const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got '${a}'`);
  return v;
}

/** One keep-alive connection issuing GETs back to back until `stopAt`; latencies in ms. */
function connection(host: string, port: number, path: string, stopAt: number, lat: number[], errs: { n: number }): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, host);
    sock.setNoDelay(true);
    const req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\n\r\n`);
    let buf: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    const send = (): void => {
      if (performance.now() >= stopAt) {
        sock.end();
        return;
      }
      sentAt = performance.now();
      sock.write(req as Uint8Array);
    };
    sock.on('connect', send);
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!m) {
          errs.n++;
          sock.destroy();
          return;
        }
        const total = end + 4 + Number(m[1]);
        if (buf.length < total) return;
        const status = Number(head.slice(9, 12));
        if (status !== 200) errs.n++;
        buf = buf.subarray(total);
        lat.push(performance.now() - sentAt);
        send();
      }
    });
    sock.on('error', () => {
      errs.n++;
      resolve();
    });
    sock.on('close', () => resolve());
  });
}

interface Target {
  name: string;
  port: number;
  path: string;
  lat: number[];
  errs: { n: number };
  elapsedMs: number;
}

/** One slice of load on one target: `connections` connections for `ms`. */
async function slice(t: Target, host: string, connections: number, ms: number, record: boolean): Promise<void> {
  const lat: number[] = record ? t.lat : [];
  const errs = record ? t.errs : { n: 0 };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, () => connection(host, t.port, t.path, t0 + ms, lat, errs)));
  if (record) t.elapsedMs += performance.now() - t0;
}

function result(t: Target): Result {
  const lat = t.lat.slice().sort((a, b) => a - b);
  const q = (p: number): number => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : NaN);
  return { name: t.name, requests: lat.length, rps: (lat.length / t.elapsedMs) * 1000, p50Ms: q(0.5), p99Ms: q(0.99), errors: t.errs.n };
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function benchHttp(args: string[]): Promise<number> {
  const durationMs = arg(args, 'duration-ms', 6000);
  const warmupMs = arg(args, 'warmup-ms', 500);
  const connections = arg(args, 'connections', 16);
  const rounds = arg(args, 'rounds', 6);
  const host = '127.0.0.1';

  // Muster: a real single-server agent in this process (the same code `muster agent` runs:
  // express → HTTP core → agent → Raft/catalog), holding the walkthrough's web3 on two nodes
  // (both passing) and one KV key, all written through Raft.
  const agentIp = '127.0.0.1';
  const musterPort = 18500 + Math.floor(Math.random() * 400);
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-bench-http-'));
  const started = await startRealAgent(
    ['-server', '-bootstrap', '-data-dir', dataDir, '-node=n1', `-bind=${agentIp}`, `-client=${agentIp}`, `-http-port=${musterPort}`, `-dns-port=${musterPort + 1000}`, '-log-level=err'],
    { stdout: () => {}, logStream: devNull() },
  );
  if (typeof started === 'number') {
    process.stderr.write(`bench http: the agent did not start (exit ${started})\n`);
    return 1;
  }
  const put = async (path: string, body: string): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`http://${agentIp}:${musterPort}${path}`, { method: 'PUT', body });
      if (r.ok) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`bench http: PUT ${path} kept failing`);
  };
  for (const [node, addr] of [['n2', '10.10.126.101'], ['n3', '10.10.126.187']] as const) {
    await put(
      '/v1/catalog/register',
      JSON.stringify({
        Node: node,
        Address: addr,
        Service: { ID: 'web3', Service: 'web3', Tags: ['master'], Address: '127.0.0.1', Port: 10000 },
        Checks: [
          { CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' },
          { CheckID: 'service:web3', Name: "Service 'web3' check", Status: 'passing', ServiceID: 'web3' },
        ],
      }),
    );
  }
  await put('/v1/kv/k', 'value');

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/json', (_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(FIXED_JSON);
  });
  const expressServer = http.createServer(app);
  const expressPort = await listen(expressServer, host);

  const nodeServer = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(FIXED_JSON);
  });
  const nodePort = await listen(nodeServer, host);

  // Interleaved rounds, rotating the order, so a noisy neighbour (other processes on the
  // machine) hits every target alike instead of skewing one of them.
  const mk = (name: string, port: number, path: string): Target => ({ name, port, path, lat: [], errs: { n: 0 }, elapsedMs: 0 });
  const targets = [
    mk('node:http fixed JSON', nodePort, '/json'),
    mk('express fixed JSON', expressPort, '/json'),
    mk('muster GET /v1/health/service/web3?passing', musterPort, '/v1/health/service/web3?passing'),
    mk('muster GET /v1/kv/k', musterPort, '/v1/kv/k'),
  ];
  try {
    for (const t of targets) await slice(t, host, connections, warmupMs, false);
    const perSlice = durationMs / rounds;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < targets.length; i++) await slice(targets[(i + r) % targets.length]!, host, connections, perSlice, true);
    }
  } finally {
    started.process.signal('SIGTERM');
    await started.exited;
    rmSync(dataDir, { recursive: true, force: true });
    expressServer.closeAllConnections();
    nodeServer.closeAllConnections();
    await new Promise((r) => expressServer.close(r));
    await new Promise((r) => nodeServer.close(r));
  }
  const results = targets.map(result);

  const [nodeR, expR, healthR, kvR] = results as [Result, Result, Result, Result];
  process.stdout.write(
    `connections=${connections} duration=${durationMs}ms per target in ${rounds} interleaved rounds (after ${warmupMs}ms warm-up), one process\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(46)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  errors ${r.errors}\n`,
    );
  }
  const ratio = (a: Result, b: Result): number => Number((a.rps / b.rps).toFixed(3));
  const summary = {
    bench: 'http',
    connections,
    durationMs,
    rps: { node: Math.round(nodeR.rps), express: Math.round(expR.rps), health: Math.round(healthR.rps), kv: Math.round(kvR.rps) },
    p99Ms: {
      node: Number(nodeR.p99Ms.toFixed(3)),
      express: Number(expR.p99Ms.toFixed(3)),
      health: Number(healthR.p99Ms.toFixed(3)),
      kv: Number(kvR.p99Ms.toFixed(3)),
    },
    ratios: {
      healthVsExpress: ratio(healthR, expR),
      kvVsExpress: ratio(kvR, expR),
      expressVsNode: ratio(expR, nodeR),
      healthVsNode: ratio(healthR, nodeR),
    },
    goal: 'health and kv >= 0.8 x express',
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}
