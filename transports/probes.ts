// transports/probes.ts — real health-check probes: HTTP request, TCP connect, script run.
//
// Owns: running one check and reporting passing/warning/critical with Consul-style output
// (HTTP: 2xx passing, 429 warning, else critical; TCP: connect ⇒ passing; script: exit 0
// passing, 1 warning, else critical), each bounded by its timeout and a 4 KB output cap.
// Must never: call `done` twice or from inside run(), leave a timed-out child running, or
// hold more than the capped output in memory.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { CheckSpec, ProbePort, ProbeResult } from '../core/runtime/ports.ts';
import { errnoCode, explainErrno } from './errors.ts';

/** Consul keeps at most this much check output. */
export const CHECK_OUTPUT_CAP_BYTES = 4096;

type Done = (result: ProbeResult) => void;

export class RealProbes implements ProbePort {
  run(spec: CheckSpec, done: Done): void {
    let called = false;
    const once: Done = (result) => {
      if (called) return;
      called = true;
      done(result);
    };
    // Every path reports from a later event-loop turn, never from inside run().
    const fail = (output: string): void => {
      setImmediate(() => once({ status: 'critical', output }));
    };
    if (!(spec.timeoutMs > 0)) {
      fail(`check timeout must be a positive number of ms, got ${spec.timeoutMs}`);
      return;
    }
    switch (spec.type) {
      case 'http':
        return probeHttp(spec, once, fail);
      case 'tcp':
        return probeTcp(spec, once, fail);
      case 'script':
        return probeScript(spec, once, fail);
      default:
        fail(`unknown check type '${(spec as { type: string }).type}'`);
    }
  }
}

// ---- HTTP --------------------------------------------------------------------------------

function probeHttp(spec: Extract<CheckSpec, { type: 'http' }>, done: Done, fail: (output: string) => void): void {
  const method = (spec.method || 'GET').toUpperCase();
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    fail(`http check url '${spec.url}' is not a valid URL (expected e.g. http://localhost:5000/health)`);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(`http check url '${spec.url}' must start with http:// or https://`);
    return;
  }
  const headers: Record<string, string | string[]> = {
    'User-Agent': 'Consul Health Check',
    Accept: 'text/plain, text/*, */*',
  };
  for (const [name, values] of Object.entries(spec.header ?? {})) {
    // Replace our defaults case-insensitively so a user header wins.
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name.toLowerCase()) delete headers[k];
    headers[name] = values;
  }
  // Go's client error reads "Get http://…: …"; keep that shape for familiar output.
  const op = method.charAt(0) + method.slice(1).toLowerCase();
  const lib = url.protocol === 'https:' ? https : http;
  let timedOut = false;
  let req: http.ClientRequest;
  try {
    req = lib.request(url, { method, headers, agent: false });
  } catch (err) {
    fail(`${op} ${spec.url}: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const timer = setTimeout(() => {
    timedOut = true;
    req.destroy();
  }, spec.timeoutMs);
  const finish = (result: ProbeResult): void => {
    clearTimeout(timer);
    done(result);
  };
  req.on('error', (err) => {
    if (timedOut) {
      finish({ status: 'critical', output: `${op} ${spec.url}: net/http: request canceled (Client.Timeout exceeded while awaiting headers)` });
      return;
    }
    finish({ status: 'critical', output: `${op} ${spec.url}: ${describeDialError(url, err)}` });
  });
  req.on('response', (res) => {
    const body = new CappedHead(CHECK_OUTPUT_CAP_BYTES);
    const report = (): void => {
      const code = res.statusCode ?? 0;
      const status: ProbeResult['status'] = code >= 200 && code <= 299 ? 'passing' : code === 429 ? 'warning' : 'critical';
      finish({ status, output: `HTTP ${method} ${spec.url}: ${code} ${res.statusMessage ?? ''} Output: ${body.text()}` });
    };
    res.on('data', (chunk: Buffer) => {
      if (body.push(chunk)) return;
      // Enough to report; stop reading a body that may be endless.
      report();
      res.destroy();
    });
    res.on('end', report);
    res.on('error', () => {
      if (timedOut) {
        finish({ status: 'critical', output: `${op} ${spec.url}: net/http: request canceled (Client.Timeout exceeded while reading body)` });
      } else report();
    });
  });
  req.end();
}

function describeDialError(url: URL, err: unknown): string {
  // With happy-eyeballs, Node aggregates one error per address tried; the first says enough.
  const inner = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err;
  const code = errnoCode(inner) ?? errnoCode(err);
  const e = inner as { address?: string; port?: number };
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const target = e.address ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port ?? port}` : `${url.hostname}:${port}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${target}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${url.hostname}: no such host`;
    case 'ECONNRESET':
      return `read tcp ${target}: connection reset by peer`;
    case 'EHOSTUNREACH':
      return `dial tcp ${target}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${target}: connect: network is unreachable`;
    default:
      return explainErrno(inner);
  }
}

// ---- TCP ---------------------------------------------------------------------------------

function probeTcp(spec: Extract<CheckSpec, { type: 'tcp' }>, done: Done, fail: (output: string) => void): void {
  const target = parseHostPort(spec.addr);
  if (typeof target === 'string') {
    fail(target);
    return;
  }
  let sock: net.Socket;
  try {
    sock = net.connect({ host: target.host, port: target.port });
  } catch (err) {
    fail(`TCP connect ${spec.addr}: ${explainErrno(err)}`);
    return;
  }
  const timer = setTimeout(() => {
    sock.destroy();
    done({ status: 'critical', output: `dial tcp ${spec.addr}: i/o timeout` });
  }, spec.timeoutMs);
  sock.once('connect', () => {
    clearTimeout(timer);
    sock.destroy();
    done({ status: 'passing', output: `TCP connect ${spec.addr}: Success` });
  });
  sock.once('error', (err) => {
    clearTimeout(timer);
    sock.destroy();
    const code = errnoCode(err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err) ?? errnoCode(err);
    const why =
      code === 'ECONNREFUSED'
        ? 'connect: connection refused'
        : code === 'ENOTFOUND'
          ? `lookup ${target.host}: no such host`
          : explainErrno(err);
    done({ status: 'critical', output: `dial tcp ${spec.addr}: ${why}` });
  });
}

function parseHostPort(addr: string): { host: string; port: number } | string {
  const bad = `tcp check address '${addr}' is not host:port (e.g. 127.0.0.1:22)`;
  if (typeof addr !== 'string') return bad;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr);
  if (!m) return bad;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return bad;
  return { host: m[1]!, port };
}

// ---- script ------------------------------------------------------------------------------

function probeScript(spec: Extract<CheckSpec, { type: 'script' }>, done: Done, fail: (output: string) => void): void {
  if (!Array.isArray(spec.args) || spec.args.length === 0 || typeof spec.args[0] !== 'string' || spec.args[0] === '') {
    fail('script check has no command (args is empty)');
    return;
  }
  const [command, ...rest] = spec.args as [string, ...string[]];
  const output = new CappedTail(CHECK_OUTPUT_CAP_BYTES);
  let child: ReturnType<typeof spawn>;
  try {
    // Its own process group, so a timeout can kill the whole script (shell + children).
    child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (err) {
    fail(`failed to run ${command}: ${explainErrno(err)}`);
    return;
  }
  let finished = false;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const finish = (result: ProbeResult): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done(result);
  };
  const fromExit = (): ProbeResult => {
    const code = exit?.code ?? null;
    const status: ProbeResult['status'] = code === 0 ? 'passing' : code === 1 ? 'warning' : 'critical';
    return { status, output: output.text() };
  };
  const timer = setTimeout(() => {
    if (exit === null) killGroup(child);
    // A script that exited but left a child holding its output open is reported as it exited.
    child.stdout?.destroy();
    child.stderr?.destroy();
    if (exit !== null) finish(fromExit());
    else finish({ status: 'critical', output: `Timed out (${formatDuration(spec.timeoutMs)}) running check` });
  }, spec.timeoutMs);
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  child.on('error', (err) => {
    const why = errnoCode(err) === 'ENOENT' ? `exec: "${command}": executable file not found in $PATH` : `failed to run ${command}: ${explainErrno(err)}`;
    finish({ status: 'critical', output: why });
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
  });
  child.on('close', (code, signal) => {
    if (exit === null) exit = { code, signal };
    finish(fromExit());
  });
}

function killGroup(child: ReturnType<typeof spawn>): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

// ---- output caps -------------------------------------------------------------------------

/** Keeps the first `cap` bytes (HTTP bodies: the start says what went wrong). */
class CappedHead {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}
  /** false once the cap is reached. */
  push(chunk: Buffer): boolean {
    const room = this.cap - this.size;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.size += part.length;
    }
    return this.size < this.cap;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Keeps the last `cap` bytes (script output: the end says how it failed), like Consul's circular buffer. */
export class CappedTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private total = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.cap) this.size -= this.chunks.shift()!.length;
    if (this.size > this.cap) {
      const first = this.chunks[0]!;
      this.chunks[0] = first.subarray(this.size - this.cap);
      this.size = this.cap;
    }
  }
  text(): string {
    const kept = Buffer.concat(this.chunks).toString('utf8');
    return this.total > this.cap ? `Captured ${this.cap} of ${this.total} bytes\n...\n${kept}` : kept;
  }
}
