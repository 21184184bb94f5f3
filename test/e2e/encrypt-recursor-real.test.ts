// test/e2e/encrypt-recursor-real.test.ts — gossip encryption and DNS recursors with real processes.
//
// Owns: a real server (NET.1) and client (NET.2) sharing an -encrypt key, a third agent (NET.3)
// with another key that must not get in, `muster keygen`, `muster info`'s encrypted flag, the
// keyring file, and recursion: a tiny node:dgram upstream on NET.9:5353 answering example.com,
// asked through both agents by real `dig`, and SERVFAIL once it is gone.
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.0.12 so this file can run beside the other real-process tests.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProcessGroup,
  assertPortsFree,
  dig,
  freshTempDir,
  http,
  parseInfo,
  runCli,
  runCommand,
  waitFor,
  type Proc,
} from './harness.ts';

const NET = process.env.MUSTER_E2E_ENCRYPT_NET ?? '127.0.12';
const S1 = `${NET}.1`;
const C2 = `${NET}.2`;
const C3 = `${NET}.3`;
const UPSTREAM = `${NET}.9`;
const UPSTREAM_PORT = 5353;

const tmp = freshTempDir('encrypt');
const group = new ProcessGroup(tmp);
const ctx = () => `agent logs in ${tmp}\n${group.tails(15)}`;
let key = '';
let s1: Proc;
let c3: Proc;
let upstream: dgram.Socket | null = null;
const upstreamSeen: string[] = [];

function startUpstream(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const name = q.questions?.[0]?.name ?? '';
      upstreamSeen.push(`${rinfo.address} ${name}`);
      const known = name.toLowerCase() === 'example.com';
      const reply = dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
        questions: q.questions,
        answers: known ? [{ name: 'example.com', type: 'A', class: 'IN', ttl: 300, data: '93.184.216.34' }] : [],
      });
      sock.send(reply, rinfo.port, rinfo.address);
    });
    sock.once('error', reject);
    sock.bind(UPSTREAM_PORT, UPSTREAM, () => resolve(sock));
  });
}

function members(ip: string): Promise<string[]> {
  return http(`http://${ip}:8500/v1/agent/members`).then((r) =>
    (JSON.parse(r.text) as { Name: string; Status: number }[]).map((m) => `${m.Name}:${m.Status}`).sort(),
  );
}

beforeAll(async () => {
  for (const ip of [S1, C2, C3]) await assertPortsFree(ip, [8300, 8301, 8302, 8500, 8600]);
  const kg = await runCli(['keygen']);
  expect(kg.code).toBe(0);
  key = kg.stdout.trim();
  upstream = await startUpstream();
  const rec = `-recursor=${UPSTREAM}:${UPSTREAM_PORT}`;
  s1 = group.agent('s1', ['-server', '-bootstrap', '-data-dir', path.join(tmp, 's1'), '-node=s1', `-bind=${S1}`, `-client=${S1}`, `-encrypt=${key}`, rec]);
  // retry-join: c2 may come up before s1 listens.
  group.agent('c2', ['-data-dir', path.join(tmp, 'c2'), '-node=c2', `-bind=${C2}`, `-client=${C2}`, `-encrypt=${key}`, rec, `-retry-join=${S1}`, '-retry-interval=1s']);
  c3 = group.agent('c3', ['-data-dir', path.join(tmp, 'c3'), '-node=c3', `-bind=${C3}`, `-client=${C3}`, `-encrypt=${Buffer.alloc(16, 7).toString('base64')}`]);
  for (const ip of [S1, C2, C3]) {
    await waitFor(`${ip} answers HTTP`, async () => (await http(`http://${ip}:8500/v1/agent/self`)).status === 200, { timeoutMs: 20_000, context: ctx });
  }
}, 60_000);

afterAll(async () => {
  await group.killAll();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
});

describe('gossip encryption, real processes', () => {
  it('keygen prints a base64 16-byte key', () => {
    expect(Buffer.from(key, 'base64').length).toBe(16);
    expect(Buffer.from(key, 'base64').toString('base64')).toBe(key);
  });

  it('agents with the same key form a cluster; banner, keyring and info say encrypted', async () => {
    await waitFor('s1 and c2 see each other', async () => JSON.stringify(await members(S1)) === JSON.stringify(['c2:1', 's1:1']), {
      timeoutMs: 20_000,
      context: ctx,
    });
    expect(s1.output).toContain('    Gossip encrypt: true, RPC-TLS: false, TLS-Incoming: false');
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 's1', 'serf', 'local.keyring'), 'utf8'))).toEqual([key]);
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 's1', 'serf', 'remote.keyring'), 'utf8'))).toEqual([key]);
    const info = parseInfo((await runCli(['info', `-http-addr=${S1}:8500`])).stdout);
    expect(info['serf_lan.encrypted']).toBe('true');
    expect(info['serf_wan.encrypted']).toBe('true');
  }, 30_000);

  it('an agent with another key cannot join, and the server logs the decrypt failure', async () => {
    const r = await http(`http://${C3}:8500/v1/agent/join/${S1}`, { method: 'PUT', timeoutMs: 20_000 });
    expect(r.status).not.toBe(200);
    expect(await members(S1)).toEqual(['c2:1', 's1:1']);
    expect(await members(C3)).toEqual(['c3:1']);
    await waitFor(
      's1 logs the undecryptable message from c3',
      async () => s1.output.some((l) => l.includes(`No installed keys could decrypt the message from=${C3}:8301`)),
      { timeoutMs: 5_000, context: ctx },
    );
    expect(c3.exitCode).toBeUndefined();
  }, 30_000);
});

describe('DNS recursors, real processes', () => {
  it('real dig through the server and through the client gets the upstream answer', async () => {
    const viaServer = await dig(S1, 8600, 'example.com', 'A');
    expect(viaServer.status).toBe('NOERROR');
    expect(viaServer.answer.map((a) => `${a.name} ${a.type} ${a.data}`)).toEqual(['example.com. A 93.184.216.34']);
    expect(viaServer.raw).toMatch(/flags: qr rd ra;/);
    const viaClient = await dig(C2, 8600, 'example.com', 'A');
    expect(viaClient.answer.map((a) => a.data)).toEqual(['93.184.216.34']);
    // Each agent recursed itself: the upstream saw both addresses.
    expect(upstreamSeen).toEqual([`${S1} example.com`, `${C2} example.com`]);
    // Inside the domain nothing goes upstream.
    const local = await dig(S1, 8600, 'consul.service.consul', 'A');
    expect(local.answer.map((a) => a.data)).toEqual([S1]);
    expect(upstreamSeen).toHaveLength(2);
  }, 30_000);

  it('with the upstream gone the agent answers SERVFAIL after recursor_timeout', async () => {
    await new Promise<void>((r) => upstream!.close(() => r()));
    upstream = null;
    const t0 = Date.now();
    const r = await runCommand('dig', [`@${S1}`, '-p', '8600', 'example.com', 'A', '+time=6', '+tries=1'], { timeoutMs: 10_000 });
    expect(/status: ([A-Z]+)/.exec(r.stdout)?.[1]).toBe('SERVFAIL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
    await waitFor('s1 logs the failed recursion', async () => s1.output.some((l) => l.includes('[ERR] dns: all resolvers failed for example.com. A')), {
      timeoutMs: 3_000,
      context: ctx,
    });
  }, 20_000);
});
