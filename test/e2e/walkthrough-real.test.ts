// test/e2e/walkthrough-real.test.ts — the walkthrough as real processes on loopback addresses.
//
// Owns: issue 8's acceptance: two -bootstrap-expect 2 servers (n1 NET.2, n2 NET.3) and a
// client (n3 NET.4), each a `node bin/muster.mjs agent` process with its own
// loopback address and Consul's default ports, driven through the CLI, real `dig`, a real
// web3 HTTP service and the node-consul client.
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.0.8 rather than the walkthrough's 127.0.0: vitest runs test files in parallel and
// the scenario replays already hold 127.0.0.2-4 with the same default ports.
import fs from 'node:fs';
import path from 'node:path';
import Consul from 'consul';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProcessGroup,
  assertPortsFree,
  dig,
  freshTempDir,
  leaderOf,
  http,
  parseInfo,
  parseMembers,
  runCli,
  sleep,
  waitFor,
  type Proc,
} from './harness.ts';

const CHECK_INTERVAL_MS = 2000;
/** Time allowed beyond one check interval for the probe, the sync to the servers and the DNS view. */
const CHECK_MARGIN_MS = 4000;
const WEB3_PORT = 10000;

interface Node {
  name: 'n1' | 'n2' | 'n3';
  ip: string;
  server: boolean;
  configDir?: string;
  proc?: Proc;
}

const NET = process.env.MUSTER_E2E_NET ?? '127.0.8';
const tmp = freshTempDir('walkthrough');
const group = new ProcessGroup(tmp);
const nodes: Record<'n1' | 'n2' | 'n3', Node> = {
  n1: { name: 'n1', ip: `${NET}.2`, server: true },
  n2: { name: 'n2', ip: `${NET}.3`, server: true, configDir: path.join(tmp, 'conf-n2') },
  n3: { name: 'n3', ip: `${NET}.4`, server: false, configDir: path.join(tmp, 'conf-n3') },
};
const web3: Partial<Record<'n2' | 'n3', Proc>> = {};
/** The server that ran `leave` in the leave step (the leader at that moment). */
let leaver: Node | undefined;

const httpAddr = (n: Node) => `${n.ip}:8500`;
const rpcAddr = (n: Node) => `${n.ip}:8300`;
const ctx = () => `agent logs in ${tmp}\n${group.tails(12)}`;

function agentArgs(n: Node, extra: string[] = []): string[] {
  const args = n.server ? ['-server', '-bootstrap-expect', '2'] : [];
  args.push('-data-dir', path.join(tmp, n.name), `-node=${n.name}`, `-bind=${n.ip}`, `-client=${n.ip}`, '-dc=dc1');
  if (n.configDir) args.push(`-config-dir=${n.configDir}`);
  return [...args, ...extra];
}

function writeWeb3Definition(n: Node): void {
  fs.mkdirSync(n.configDir!, { recursive: true });
  const def = {
    service: {
      name: 'web3',
      tags: ['master'],
      address: n.ip,
      port: WEB3_PORT,
      checks: [{ http: `http://${n.ip}:${WEB3_PORT}/health`, interval: `${CHECK_INTERVAL_MS / 1000}s` }],
    },
  };
  fs.writeFileSync(path.join(n.configDir!, 'web3.json'), JSON.stringify(def, null, 2));
}

async function startAgent(n: Node, extra: string[] = []): Promise<void> {
  n.proc = group.agent(n.name, agentArgs(n, extra));
  await waitFor(`${n.name} answers HTTP on ${httpAddr(n)}`, async () => (await http(`http://${httpAddr(n)}/v1/agent/self`)).status === 200, {
    timeoutMs: 20_000,
    context: ctx,
  });
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`muster ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Both servers name the same, non-empty leader; returns that server. */
async function agreedLeader(servers: Node[], timeoutMs: number): Promise<Node> {
  const addr = await waitFor(
    `servers ${servers.map((s) => s.name).join(', ')} agree on a leader`,
    async () => {
      const seen = await Promise.all(servers.map((s) => leaderOf(httpAddr(s))));
      if (seen[0] === '' || !seen.every((l) => l === seen[0])) throw new Error(`leaders seen: ${JSON.stringify(seen)}`);
      return seen[0];
    },
    { timeoutMs, context: ctx },
  );
  const leader = servers.find((s) => rpcAddr(s) === addr);
  if (!leader) throw new Error(`leader ${addr} is not one of ${servers.map(rpcAddr).join(', ')}`);
  return leader;
}

function srvTargets(r: Awaited<ReturnType<typeof dig>>): string[] {
  return r.answer.filter((a) => a.type === 'SRV').map((a) => a.data.split(' ')[3]!).sort();
}

beforeAll(async () => {
  for (const n of Object.values(nodes)) await assertPortsFree(n.ip, [8300, 8301, 8302, 8500, 8600]);
  await assertPortsFree(nodes.n2.ip, [WEB3_PORT]);
  await assertPortsFree(nodes.n3.ip, [WEB3_PORT]);
  writeWeb3Definition(nodes.n2);
  writeWeb3Definition(nodes.n3);
});

afterAll(async () => {
  await group.killAll();
  if (process.env.MUSTER_KEEP_E2E !== '1') fs.rmSync(tmp, { recursive: true, force: true });
});

describe(`walkthrough on real processes (${NET}.2-4)`, () => {
  it('two -bootstrap-expect 2 servers do not elect before join', async () => {
    await Promise.all([startAgent(nodes.n1), startAgent(nodes.n2)]);
    // Several election timeouts pass; neither may elect alone.
    for (let i = 0; i < 8; i++) {
      for (const n of [nodes.n1, nodes.n2]) expect(await leaderOf(httpAddr(n)), `${n.name} leader before join`).toBe('');
      await sleep(250);
    }
    const info = parseInfo(await cli(['info', `-http-addr=${httpAddr(nodes.n1)}`]));
    expect(info['consul.leader']).toBe('false');
    expect(info['consul.server']).toBe('true');
    expect(info['raft.state']).toBe('Follower');
    expect(info['raft.num_peers']).toBe('0');
    const members = parseMembers(await cli(['members', `-http-addr=${httpAddr(nodes.n1)}`]));
    expect(members.map((m) => [m.node, m.address, m.status, m.type])).toEqual([['n1', `${nodes.n1.ip}:8301`, 'alive', 'server']]);
    expect(nodes.n1.proc!.output.join('\n')).toContain('EnableSingleNode disabled, and no known peers. Aborting election');
  });

  it('`join` lets them bootstrap and elect a leader', async () => {
    const out = await cli(['join', `-http-addr=${httpAddr(nodes.n1)}`, nodes.n2.ip]);
    expect(out.trim()).toBe('Successfully joined cluster by contacting 1 nodes.');
    const leader = await agreedLeader([nodes.n1, nodes.n2], 10_000);
    const info = parseInfo(await cli(['info', `-http-addr=${httpAddr(leader)}`]));
    expect(info['consul.leader']).toBe('true');
    expect(info['raft.state']).toBe('Leader');
    expect(info['raft.num_peers']).toBe('1');
    const members = parseMembers(await cli(['members', `-http-addr=${httpAddr(nodes.n1)}`]));
    expect(members.map((m) => `${m.node} ${m.status} ${m.type}`).sort()).toEqual(['n1 alive server', 'n2 alive server']);
  });

  it('client n3 joins; web3 from -config-dir is registered on n2 and n3 but critical without a web3 process', async () => {
    await startAgent(nodes.n3);
    const out = await cli(['join', `-http-addr=${httpAddr(nodes.n3)}`, nodes.n1.ip]);
    expect(out.trim()).toBe('Successfully joined cluster by contacting 1 nodes.');
    await waitFor(
      'n3 sees n1, n2, n3 alive',
      async () => {
        const m = parseMembers(await cli(['members', `-http-addr=${httpAddr(nodes.n3)}`]));
        const rows = m.map((r) => `${r.node} ${r.status} ${r.type}`).sort();
        if (rows.join(',') !== 'n1 alive server,n2 alive server,n3 alive client') throw new Error(rows.join(', '));
        return rows;
      },
      { timeoutMs: 15_000, intervalMs: 500, context: ctx },
    );
    // Both definitions reach the catalog (through the servers, seen from n1), both critical.
    await waitFor(
      'catalog on n1 lists web3 on n2 and n3 with critical checks',
      async () => {
        const r = await http(`http://${httpAddr(nodes.n1)}/v1/health/service/web3`);
        const entries = JSON.parse(r.text) as Array<{ Node: { Node: string }; Checks: Array<{ CheckID: string; Status: string }> }>;
        const rows = entries
          .map((e) => `${e.Node.Node}:${e.Checks.find((c) => c.CheckID === 'service:web3')?.Status ?? 'no-check'}`)
          .sort();
        if (rows.join(',') !== 'n2:critical,n3:critical') throw new Error(rows.join(', '));
        return rows;
      },
      { timeoutMs: 20_000, intervalMs: 300, context: ctx },
    );
    // Consul answers a service with no healthy instance like an unknown name.
    const none = await dig(nodes.n1.ip, 8600, 'web3.service.consul', 'SRV');
    expect(none.status).toBe('NXDOMAIN');
    expect(srvTargets(none)).toEqual([]);
  });

  it('with web3 serving /health on n2 and n3, real dig on n1 answers both (SRV + A, TTL 0)', async () => {
    web3.n2 = group.web3('web3-n2', nodes.n2.ip, WEB3_PORT);
    web3.n3 = group.web3('web3-n3', nodes.n3.ip, WEB3_PORT);
    const both = await waitFor(
      `dig @${nodes.n1.ip} -p 8600 web3.service.consul SRV answers n2 and n3`,
      async () => {
        const r = await dig(nodes.n1.ip, 8600, 'web3.service.consul', 'SRV');
        if (srvTargets(r).join(',') !== 'n2.node.dc1.consul.,n3.node.dc1.consul.') throw new Error(`SRV targets [${srvTargets(r).join(', ')}] status ${r.status}`);
        return r;
      },
      // First probe runs within one interval of the process appearing; allow a few.
      { timeoutMs: 5 * CHECK_INTERVAL_MS + CHECK_MARGIN_MS, intervalMs: 300, context: ctx },
    );
    expect(both.status).toBe('NOERROR');
    for (const a of both.answer) {
      expect(a.ttl).toBe(0);
      expect(a.data).toMatch(new RegExp(`^1 1 ${WEB3_PORT} n[23]\\.node\\.dc1\\.consul\\.$`));
    }
    expect(both.additional.filter((a) => a.type === 'A').map((a) => `${a.name} ${a.data} ${a.ttl}`).sort()).toEqual([
      `n2.node.dc1.consul. ${nodes.n2.ip} 0`,
      `n3.node.dc1.consul. ${nodes.n3.ip} 0`,
    ]);
  });

  it('stopping web3 on n2 drops it from DNS within the check interval plus a margin', async () => {
    expect(web3.n2, 'web3 on n2 was started by the previous step').toBeDefined();
    const stoppedAt = Date.now();
    await group.kill9(web3.n2!);
    const one = await waitFor(
      `only n3 answered within ${CHECK_INTERVAL_MS} ms interval + ${CHECK_MARGIN_MS} ms margin of stopping web3 on n2`,
      async () => {
        const r = await dig(nodes.n1.ip, 8600, 'web3.service.consul', 'SRV');
        if (srvTargets(r).join(',') !== 'n3.node.dc1.consul.') throw new Error(`SRV targets [${srvTargets(r).join(', ')}] status ${r.status}`);
        return r;
      },
      { timeoutMs: CHECK_INTERVAL_MS + CHECK_MARGIN_MS, intervalMs: 200, context: ctx },
    );
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(CHECK_INTERVAL_MS + CHECK_MARGIN_MS + 1000);
    expect(one.additional.filter((a) => a.type === 'A').map((a) => a.data)).toEqual([nodes.n3.ip]);
  });

  it('node-consul drives the real cluster: register + check, catalog/health, KV put/get/cas, blocking query, status', async () => {
    const viaClient = new Consul({ host: nodes.n3.ip, port: 8500 });
    const viaServer = new Consul({ host: nodes.n1.ip, port: 8500 });
    try {
      // node-consul's typings demand name/timeout even for TTL checks; Consul does not.
      await viaClient.agent.service.register({
        name: 'api',
        id: 'api',
        tags: ['v1'],
        address: nodes.n3.ip,
        port: 9000,
        check: { ttl: '30s' } as never,
      });
      await viaClient.agent.check.pass({ id: 'service:api', note: 'up' });
      await waitFor(
        'n1 catalog shows api on n3 with a passing check',
        async () => {
          const nodesList = (await viaServer.catalog.service.nodes('api')) as Array<{ Node: string; ServicePort: number }>;
          const healthy = (await viaServer.health.service({ service: 'api', passing: true })) as Array<{
            Node: { Node: string };
            Checks: Array<{ CheckID: string; Status: string }>;
          }>;
          const ok =
            nodesList.length === 1 &&
            nodesList[0]!.Node === 'n3' &&
            nodesList[0]!.ServicePort === 9000 &&
            healthy.length === 1 &&
            healthy[0]!.Checks.some((c) => c.CheckID === 'service:api' && c.Status === 'passing');
          if (!ok) throw new Error(`catalog ${JSON.stringify(nodesList)} health ${JSON.stringify(healthy)}`);
          return true;
        },
        { timeoutMs: 10_000, intervalMs: 300, context: ctx },
      );

      expect(await viaClient.kv.set('e2e/config', 'v1')).toBe(true);
      const got = (await viaServer.kv.get('e2e/config')) as { Value: string; ModifyIndex: number };
      expect(got.Value).toBe('v1');
      expect(await viaClient.kv.set({ key: 'e2e/config', value: 'v2', cas: got.ModifyIndex + 1000 })).not.toBe(true);
      expect(((await viaServer.kv.get('e2e/config')) as { Value: string }).Value).toBe('v1');
      expect(await viaClient.kv.set({ key: 'e2e/config', value: 'v2', cas: got.ModifyIndex })).toBe(true);
      expect(((await viaServer.kv.get('e2e/config')) as { Value: string }).Value).toBe('v2');

      // A blocking query with a 10 s wait must wake on the change, well before its deadline.
      await viaClient.kv.set('e2e/watched', 'a');
      const seen: string[] = [];
      let setAt = 0;
      let wokeAfterMs = -1;
      const watch = viaServer.watch({ method: viaServer.kv.get, options: { key: 'e2e/watched', wait: '10s' } as never });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`blocking query did not wake within 6 s; saw ${JSON.stringify(seen)}`)), 6000);
          watch.on('change', (data: { Value: string } | undefined) => {
            seen.push(data?.Value ?? '(none)');
            if (seen.length === 1) {
              setTimeout(() => {
                setAt = Date.now();
                void viaClient.kv.set('e2e/watched', 'b');
              }, 300);
            }
            if (seen.length === 2) {
              wokeAfterMs = Date.now() - setAt;
              clearTimeout(timer);
              resolve();
            }
          });
          watch.on('error', (err: Error) => {
            clearTimeout(timer);
            reject(err);
          });
        });
      } finally {
        watch.end();
      }
      expect(seen).toEqual(['a', 'b']);
      expect(wokeAfterMs).toBeLessThan(3000);

      const leader = await leaderOf(httpAddr(nodes.n1));
      expect(await viaServer.status.leader()).toBe(leader);
      expect(await viaClient.status.leader()).toBe(leader);
      expect(((await viaServer.status.peers()) as string[]).slice().sort()).toEqual([rpcAddr(nodes.n1), rpcAddr(nodes.n2)]);

      await viaClient.agent.service.deregister('api');
    } finally {
      viaClient.destroy();
      viaServer.destroy();
    }
  });

  it('`leave` on the leader: the other server has no leader, members shows `left`, peers.json holds null', async () => {
    const leader = await agreedLeader([nodes.n1, nodes.n2], 10_000);
    const other = leader === nodes.n1 ? nodes.n2 : nodes.n1;
    leaver = leader;
    const out = await cli(['leave', `-http-addr=${httpAddr(leader)}`]);
    expect(out.trim()).toBe('Graceful leave complete');
    const code = await Promise.race([leader.proc!.exited, sleep(15_000).then(() => 'still running')]);
    expect(code, `${leader.name} exits after leave`).toBe(0);

    await waitFor(`${other.name} reports no leader after ${leader.name} left`, async () => (await leaderOf(httpAddr(other))) === '', {
      timeoutMs: 10_000,
      context: ctx,
    });
    // And stays leaderless: one server of a two-server peer set cannot elect.
    for (let i = 0; i < 6; i++) {
      expect(await leaderOf(httpAddr(other)), `${other.name} leader after ${leader.name} left`).toBe('');
      await sleep(250);
    }
    const info = parseInfo(await cli(['info', `-http-addr=${httpAddr(other)}`]));
    expect(info['consul.leader']).toBe('false');
    expect(info['raft.state']).not.toBe('Leader');
    await waitFor(
      `members on ${other.name} shows ${leader.name} left`,
      async () => {
        const rows = parseMembers(await cli(['members', `-http-addr=${httpAddr(other)}`]));
        const row = rows.find((r) => r.node === leader.name);
        if (row?.status !== 'left') throw new Error(rows.map((r) => `${r.node} ${r.status}`).join(', '));
        return rows;
      },
      { timeoutMs: 10_000, intervalMs: 500, context: ctx },
    );
    const peersPath = path.join(tmp, leader.name, 'raft', 'peers.json');
    const text = fs.readFileSync(peersPath, 'utf8');
    expect(JSON.parse(text), `${peersPath} after leave`).toBeNull();
  });

  it('recovery: both peers.json rewritten with the same list, leaver restarted with -rejoin ⇒ a leader again', async () => {
    expect(leaver, 'the leave step chose a leaver').toBeDefined();
    const left = leaver!;
    const list = JSON.stringify([rpcAddr(nodes.n2), rpcAddr(nodes.n1)]);
    for (const n of [nodes.n1, nodes.n2]) fs.writeFileSync(path.join(tmp, n.name, 'raft', 'peers.json'), list);
    await startAgent(left, ['-rejoin']);
    const leader = await agreedLeader([nodes.n1, nodes.n2], 20_000);
    expect([nodes.n1.name, nodes.n2.name]).toContain(leader.name);
    // The recovered cluster takes writes and replicates them.
    const put = await http(`http://${httpAddr(nodes.n1)}/v1/kv/e2e/after-recovery`, { method: 'PUT', body: 'ok', timeoutMs: 5000 });
    expect(put.text).toBe('true');
    await waitFor(
      'n2 serves the post-recovery write',
      async () => (await http(`http://${httpAddr(nodes.n2)}/v1/kv/e2e/after-recovery?raw`)).text === 'ok',
      { timeoutMs: 5000, context: ctx },
    );
    await waitFor(
      'members on n1 shows n1, n2 alive again',
      async () => {
        const rows = parseMembers(await cli(['members', `-http-addr=${httpAddr(nodes.n1)}`]));
        const servers = rows.filter((r) => r.type === 'server').map((r) => `${r.node} ${r.status}`).sort();
        if (servers.join(',') !== 'n1 alive,n2 alive') throw new Error(servers.join(', '));
        return rows;
      },
      { timeoutMs: 15_000, intervalMs: 500, context: ctx },
    );
  });
});
