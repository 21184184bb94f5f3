// test/transports/ports.test.ts — createRealPorts driving the shared host loop end to end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { wireCodec } from '../../core/codec/wire.ts';
import { fx, type BaseEffect } from '../../core/machine.ts';
import { Host, type HostInput } from '../../core/runtime/host.ts';
import { createRealPorts, type RealPorts } from '../../transports/ports.ts';

const PORT = 47500;
const opened: RealPorts[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Test-only commands, handed in with host.deliver like any other input. */
type Command =
  | { kind: 'ping'; to: string; via: 'udp' | 'tcp'; n: number }
  | { kind: 'arm'; name: string; atMs: number };

/** Answers ping with pong on the same transport, persists what it saw, logs unreachables. */
class PingMachine {
  readonly seen: string[] = [];
  step(_nowMs: number, input: HostInput<unknown> | Command): BaseEffect[] {
    if (input.kind === 'ping') return [fx.send(PORT, input.to, input.via, { type: 'ping', n: input.n })];
    if (input.kind === 'arm') return [fx.timer(input.name, input.atMs)];
    if (input.kind === 'timer') return [fx.log('INFO', 'test', `timer ${input.name}`)];
    if (input.kind === 'unreachable') {
      this.seen.push(`unreachable ${input.to} ${input.reason} ${JSON.stringify(input.msg)}`);
      return [];
    }
    const msg = input.msg as { type: string; n: number };
    this.seen.push(`${input.via} ${msg.type} ${msg.n} from ${input.from}`);
    const out: BaseEffect[] = [fx.persist('seen.log', new TextEncoder().encode(`${msg.type}${msg.n}\n`), 'append', true)];
    if (msg.type === 'ping') out.push(fx.send(input.port, input.from, input.via, { type: 'pong', n: msg.n }));
    return out;
  }
}

async function startHost(ip: string): Promise<{ ports: RealPorts; host: Host<unknown, BaseEffect>; machine: PingMachine; dataDir: string; logs: () => string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'muster-ports-'));
  dirs.push(dataDir);
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (c: Buffer) => (logText += c.toString('utf8')));
  const ports = await createRealPorts({ ip, logStream, dataDir, net: { reconnectBaseMs: 20 } });
  opened.push(ports);
  const host = new Host<unknown, BaseEffect>({ ports, dataDir, listen: { udp: [PORT], tcp: [PORT] }, codec: wireCodec });
  const machine = new PingMachine();
  host.start(machine);
  await ports.ready();
  return { ports, host, machine, dataDir, logs: () => logText };
}

function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

describe('createRealPorts + Host', () => {
  it('ping/pong over UDP and TCP between two hosts, persisting and timing through real ports', async () => {
    const a = await startHost('127.0.0.5');
    const b = await startHost('127.0.0.6');
    a.host.deliver({ kind: 'ping', to: `127.0.0.6:${PORT}`, via: 'udp', n: 1 });
    a.host.deliver({ kind: 'ping', to: `127.0.0.6:${PORT}`, via: 'tcp', n: 2 });
    await waitFor(() => a.machine.seen.length >= 2, 3000, 'both pongs');
    expect(b.machine.seen.sort()).toEqual([`tcp ping 2 from 127.0.0.5:${PORT}`, `udp ping 1 from 127.0.0.5:${PORT}`]);
    expect(a.machine.seen.sort()).toEqual([`tcp pong 2 from 127.0.0.6:${PORT}`, `udp pong 1 from 127.0.0.6:${PORT}`]);
    expect(fs.readFileSync(path.join(b.dataDir, 'seen.log'), 'utf8').split('\n').sort()).toEqual(['', 'ping1', 'ping2']);

    const t = a.ports.clock.nowMs();
    a.host.deliver({ kind: 'arm', name: 'tick', atMs: t + 30 });
    await waitFor(() => a.logs().includes('[INFO] test: timer tick'), 2000, 'the timer log line');
    expect(a.ports.clock.nowMs()).toBeGreaterThanOrEqual(t + 30);
  });

  it('turns a refused stream send into an unreachable input', async () => {
    const a = await startHost('127.0.0.5');
    a.host.deliver({ kind: 'ping', to: '127.0.0.7:47599', via: 'tcp', n: 9 });
    await waitFor(() => a.machine.seen.length === 1, 2000, 'unreachable');
    expect(a.machine.seen).toEqual(['unreachable 127.0.0.7:47599 refused {"type":"ping","n":9}']);
  });

  it('rejects an ip that is not on this machine, and a port already taken, with one clear line', async () => {
    await expect(createRealPorts({ ip: '192.0.2.1' })).rejects.toThrow(
      /^cannot use bind address 192\.0\.2\.1: address not available .*\(EADDRNOTAVAIL\)$/,
    );
    await expect(createRealPorts({ ip: 'n1' })).rejects.toThrow(/not an IPv4 address/);
    await startHost('127.0.0.5');
    await expect(startHost('127.0.0.5')).rejects.toThrow(/cannot bind (UDP|TCP) 127\.0\.0\.5:47500: address already in use/);
  });
});
