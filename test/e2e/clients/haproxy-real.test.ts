// test/e2e/clients/haproxy-real.test.ts — Debian's HAProxy 2.6 resolving its servers from a
// real Muster agent's DNS (#21): a `resolvers` section on Muster's port 8600 and
// `server-template` on SRV (`_web3._tcp.service.consul`, `_web4._tcp.service.consul`) and on
// A records (`web4.service.consul`). Both shapes of #21 fill one slot per healthy instance:
// web3 is three instances on the agent's node on three ports (no service address), web4 is
// three instances with their own service addresses on one port. A failing check empties the
// instance's slot and a passing one fills it again, within seconds. HAProxy's view is read
// through its runtime API (`show servers state` on the stats socket).
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.24.1 (the dns engineer's block 127.24.0.0/16).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup, freshTempDir, http, waitFor, type Proc } from '../harness.ts';

const IP = '127.24.1.1';
const WEB3_PORTS = [18081, 18082, 18083];
const WEB4_ADDRS = ['127.24.1.11', '127.24.1.12', '127.24.1.13'];
const WEB4_PORT = 18080;
const tmp = freshTempDir('haproxy');
const group = new ProcessGroup(tmp);
const SOCK = path.join(tmp, 'haproxy.sock');
let haproxy: Proc;

function haproxyBinary(): string {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (r.error) throw new Error(`haproxy could not run (${r.error.message}); install it with \`apt-get install haproxy\` (CI's .ci/run does)`);
  return 'haproxy';
}

const agentUrl = (p: string): string => `http://${IP}:8500${p}`;

async function put(p: string, body?: string): Promise<void> {
  const r = await http(agentUrl(p), { method: 'PUT', body });
  if (r.status !== 200) throw new Error(`PUT ${p} → ${r.status} ${r.text}`);
}

/** One runtime-API command over the stats socket; HAProxy closes the socket after answering. */
function runtime(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(SOCK);
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`HAProxy runtime API did not answer '${command}' within 3 s`));
    }, 3000);
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => (out += d));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** The addr:port of every slot of a backend that DNS filled and that is not in maintenance. */
async function filledSlots(backend: string): Promise<string[]> {
  const text = await runtime(`show servers state ${backend}`);
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#') && !/^\d+$/.test(l.trim()));
  const out: string[] = [];
  for (const l of lines) {
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state … srv_port (field 19)
    const f = l.trim().split(/\s+/);
    const addr = f[4]!;
    const admin = Number(f[6]);
    const port = f[18]!;
    // SRV_ADMF_RMAINT (0x08): the slot has no DNS record behind it.
    if (addr !== '-' && addr !== '0.0.0.0' && (admin & 0x08) === 0) out.push(`${addr}:${port}`);
  }
  return out.sort();
}

/** Waits (bounded) until the backend's filled slots are exactly `want`; returns the ms it took. */
async function slotsBecome(backend: string, want: string[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last: string[] = [];
  await waitFor(
    `${backend} slots = ${want.join(', ')}`,
    async () => {
      last = await filledSlots(backend);
      return JSON.stringify(last) === JSON.stringify([...want].sort());
    },
    { timeoutMs, intervalMs: 100, context: () => `last seen: ${last.join(', ')}\n${group.tails(15)}` },
  );
  return Date.now() - t0;
}

beforeAll(async () => {
  const bin = haproxyBinary();
  group.agent('s1', ['-server', '-bootstrap-expect', '1', '-data-dir', path.join(tmp, 's1'), '-node=h1', `-bind=${IP}`, `-client=${IP}`]);
  // A single server elects itself within a few election timeouts; 30 s covers a loaded CI box.
  await waitFor(
    'a leader',
    async () => {
      const r = await http(agentUrl('/v1/status/leader')).catch(() => undefined);
      return r && r.status === 200 && r.text.includes(':8300');
    },
    { timeoutMs: 30_000, intervalMs: 250, context: () => group.tails(20) },
  );
  const register = async (id: string, name: string, port: number, address?: string): Promise<void> => {
    // A TTL check far longer than the test: it changes only when the test says so.
    await put('/v1/agent/service/register', JSON.stringify({ ID: id, Name: name, Port: port, ...(address ? { Address: address } : {}), Check: { TTL: '10m' } }));
    await put(`/v1/agent/check/pass/service:${id}`);
  };
  for (const port of WEB3_PORTS) await register(`web3-${port}`, 'web3', port);
  for (const addr of WEB4_ADDRS) await register(`web4-${addr.split('.').pop()}`, 'web4', WEB4_PORT, addr);
  // Anti-entropy pushes the registrations and check results to the catalog right away; 15 s
  // bounds a slow first sync.
  await waitFor(
    'six passing instances in the catalog',
    async () => {
      const a = await http(agentUrl('/v1/health/service/web3?passing'));
      const b = await http(agentUrl('/v1/health/service/web4?passing'));
      return JSON.parse(a.text).length === 3 && JSON.parse(b.text).length === 3;
    },
    { timeoutMs: 15_000, intervalMs: 250, context: () => group.tails(20) },
  );

  const cfg = path.join(tmp, 'haproxy.cfg');
  fs.writeFileSync(
    cfg,
    `global
    stats socket ${SOCK} mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
resolvers muster
    nameserver muster ${IP}:8600
    accepted_payload_size 8192
    resolve_retries 3
    timeout resolve 500ms
    timeout retry 500ms
    hold valid 1s
    hold obsolete 0s
    hold nx 1s
listen web3_srv
    bind ${IP}:19001
    server-template web3_ 5 _web3._tcp.service.consul resolvers muster resolve-prefer ipv4 init-addr none
listen web4_srv
    bind ${IP}:19002
    server-template web4_ 5 _web4._tcp.service.consul resolvers muster resolve-prefer ipv4 init-addr none
listen web4_a
    bind ${IP}:19003
    server-template web4a_ 5 web4.service.consul:${WEB4_PORT} resolvers muster resolve-prefer ipv4 init-addr none
`,
  );
  const check = spawnSync(bin, ['-c', '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the config:\n${check.stdout}${check.stderr}`);
  haproxy = group.spawn('haproxy', bin, ['-db', '-f', cfg]);
  await waitFor('the HAProxy runtime socket', async () => fs.existsSync(SOCK) && (await runtime('show info')).includes('Name: HAProxy'), {
    timeoutMs: 10_000,
    intervalMs: 100,
    context: () => group.tails(20),
  });
}, 90_000);

afterAll(async () => {
  await group.killAll();
});

const web3Slots = WEB3_PORTS.map((p) => `${IP}:${p}`);
const web4Slots = WEB4_ADDRS.map((a) => `${a}:${WEB4_PORT}`);
// HAProxy re-resolves every 500 ms (timeout resolve); 10 s leaves room for a loaded CI box and
// is still "within seconds" of the check change.
const SLOT_BOUND_MS = 10_000;

describe('HAProxy server-template on Muster DNS', () => {
  it('fills one slot per instance: three ports on one node (SRV), three service addresses on one port (SRV and A)', async () => {
    await slotsBecome('web3_srv', web3Slots, 20_000);
    await slotsBecome('web4_srv', web4Slots, 20_000);
    await slotsBecome('web4_a', web4Slots, 20_000);
    expect(haproxy.exitCode).toBeUndefined();
  }, 70_000);

  it('an instance whose check fails loses its slot, and regains it when the check passes', async () => {
    await put('/v1/agent/check/fail/service:web3-18082');
    await put('/v1/agent/check/fail/service:web4-12');
    const lostMs = Math.max(
      await slotsBecome('web3_srv', web3Slots.filter((s) => !s.endsWith(':18082')), SLOT_BOUND_MS),
      await slotsBecome('web4_srv', web4Slots.filter((s) => !s.startsWith('127.24.1.12:')), SLOT_BOUND_MS),
      await slotsBecome('web4_a', web4Slots.filter((s) => !s.startsWith('127.24.1.12:')), SLOT_BOUND_MS),
    );
    await put('/v1/agent/check/pass/service:web3-18082');
    await put('/v1/agent/check/pass/service:web4-12');
    const regainedMs = Math.max(
      await slotsBecome('web3_srv', web3Slots, SLOT_BOUND_MS),
      await slotsBecome('web4_srv', web4Slots, SLOT_BOUND_MS),
      await slotsBecome('web4_a', web4Slots, SLOT_BOUND_MS),
    );
    console.log(`HAProxy: slot lost ${lostMs} ms after the check failed, regained ${regainedMs} ms after it passed`);
    expect(lostMs).toBeLessThan(SLOT_BOUND_MS);
    expect(regainedMs).toBeLessThan(SLOT_BOUND_MS);
  }, 80_000);
});
