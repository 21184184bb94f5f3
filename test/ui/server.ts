// test/ui/server.ts — the real cluster the browser tests drive: three `node bin/muster.mjs
// agent` processes on loopback (servers n1 and n2 with -bootstrap-expect 2, joined; client
// n3), service web3 defined in -config-dir on n2 and n3 with an HTTP check every second
// against a small HTTP service this file runs in the test process, and the built-in UI
// served by n2 (-ui) on its HTTP address.
//
// Owns: starting and stopping that cluster, the web3 services, and the cluster-level moves
// the tests ask for (a check failing, the cluster losing and regaining its leader, a node
// leaving), each waited for with a deadline.
// Must never: wait without a deadline, leave a process behind (close() kills by PID what it
// started), or use addresses outside UI_NET (127.0.13.x, used by no other test file).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ProcessGroup, assertPortsFree, freshTempDir, leaderOf, runCli, waitFor, withDeadline, type Proc } from '../e2e/harness.ts';
import { ensureUiBuilt, ROOT } from './build.ts';

export const UI_NET = process.env.MUSTER_UI_NET ?? '127.0.13';
export const CHECK_INTERVAL_MS = 1000;
export const WEB3_PORT = 10000;
const AGENT_PORTS = [8300, 8301, 8302, 8500, 8600];

export type NodeName = 'n1' | 'n2' | 'n3';

export interface UiNode {
  name: NodeName;
  ip: string;
  server: boolean;
  /** Runs web3 (definition in its -config-dir, HTTP check on ip:WEB3_PORT/health). */
  web3: boolean;
}

export const UI_NODES: Record<NodeName, UiNode> = {
  n1: { name: 'n1', ip: `${UI_NET}.2`, server: true, web3: false },
  n2: { name: 'n2', ip: `${UI_NET}.3`, server: true, web3: true },
  n3: { name: 'n3', ip: `${UI_NET}.4`, server: false, web3: true },
};
/** The agent started with -ui; the browser talks to it. */
const UI_NODE = UI_NODES.n2;
/** The server stopped to take the quorum away from the UI agent. */
const QUORUM_VICTIM = UI_NODES.n1;

export interface UiTestServer {
  /** The UI agent's HTTP address, e.g. "http://127.0.13.3:8500". */
  url: string;
  /**
   * Make `node`'s web3 check report `status` by changing its real /health: critical stops
   * the service (connection refused), warning answers 429, passing serves 200 again. Resolves
   * once the change is made, not once the agent noticed.
   */
  setCheck(node: NodeName, checkId: string, status: 'passing' | 'warning' | 'critical'): Promise<void>;
  /** The node the cluster's servers agree is the Raft leader. */
  leader(): Promise<NodeName>;
  /** Stop the other server (SIGTERM, no leave): the UI agent has no quorum and no leader. */
  loseLeader(): Promise<void>;
  /** Restart that server (same data dir, -join): the servers elect a leader again. */
  restoreLeader(): Promise<void>;
  /** `muster leave` against `node`'s agent; resolves once the CLI and the agent exited. */
  leaveNode(node: NodeName): Promise<void>;
  /** Last lines of every agent's output, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

/** web3 on one node: a real HTTP service whose /health the agent's check probes. */
class Web3Service {
  private server: http.Server | null = null;
  private healthCode = 200;

  constructor(readonly node: UiNode) {}

  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      if (req.url === '/health') {
        res.writeHead(this.healthCode, { 'Content-Type': 'text/plain' });
        res.end(this.healthCode === 200 ? 'hello web3' : 'busy');
        return;
      }
      res.end(`Hello Web3! This is ${this.node.name}`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(WEB3_PORT, this.node.ip, () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await withDeadline(closed, 5000, `web3 on ${this.node.name} did not stop`);
  }

  async set(status: 'passing' | 'warning' | 'critical'): Promise<void> {
    if (status === 'critical') return this.stop();
    this.healthCode = status === 'warning' ? 429 : 200;
    await this.start();
  }
}

const httpAddr = (n: UiNode) => `${n.ip}:8500`;
const rpcAddr = (n: UiNode) => `${n.ip}:8300`;

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function put(url: string): Promise<void> {
  const res = await fetch(url, { method: 'PUT', signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`PUT ${url}: HTTP ${res.status} ${await res.text()}`);
}

function writeWeb3Definition(configDir: string, n: UiNode): void {
  fs.mkdirSync(configDir, { recursive: true });
  const def = {
    service: {
      name: 'web3',
      tags: ['master'],
      address: n.ip,
      port: WEB3_PORT,
      checks: [{ http: `http://${n.ip}:${WEB3_PORT}/health`, interval: `${CHECK_INTERVAL_MS / 1000}s` }],
    },
  };
  fs.writeFileSync(path.join(configDir, 'web3.json'), JSON.stringify(def, null, 2));
}

export async function startUiTestServer(): Promise<UiTestServer> {
  ensureUiBuilt();
  const nodes = Object.values(UI_NODES);
  for (const n of nodes) await assertPortsFree(n.ip, n.web3 ? [...AGENT_PORTS, WEB3_PORT] : AGENT_PORTS);

  const tmp = freshTempDir('ui');
  // Agent logs next to the screenshots, so a failed CI run keeps them.
  const logDir = path.join(ROOT, 'test-artifacts', 'ui-agents');
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  const group = new ProcessGroup(logDir);
  const procs: Partial<Record<NodeName, Proc>> = {};
  const web3 = new Map<NodeName, Web3Service>();
  const ctx = () => `agent logs in ${logDir}\n${group.tails(12)}`;

  const agentArgs = (n: UiNode, extra: string[]): string[] => {
    const args = n.server ? ['-server', '-bootstrap-expect', '2'] : [];
    args.push('-data-dir', path.join(tmp, n.name), `-node=${n.name}`, `-bind=${n.ip}`, `-client=${n.ip}`, '-dc=dc1');
    if (n.web3) {
      const dir = path.join(tmp, `conf-${n.name}`);
      writeWeb3Definition(dir, n);
      args.push(`-config-dir=${dir}`);
    }
    if (n === UI_NODE) args.push('-ui');
    return [...args, ...extra];
  };

  const startAgent = async (n: UiNode, extra: string[] = []): Promise<void> => {
    procs[n.name] = group.agent(n.name, agentArgs(n, extra));
    await waitFor(
      `${n.name} answers HTTP on ${httpAddr(n)}`,
      async () => {
        if (procs[n.name]!.exitCode !== undefined) throw new Error(`${n.name} exited with ${procs[n.name]!.exitCode}`);
        return (await getJson<unknown>(`http://${httpAddr(n)}/v1/agent/self`)) !== undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, context: ctx },
    );
  };

  const agreedLeader = async (timeoutMs: number): Promise<NodeName> => {
    const servers = nodes.filter((n) => n.server);
    const addr = await waitFor(
      'the servers agree on a leader',
      async () => {
        const seen = await Promise.all(servers.map((s) => leaderOf(httpAddr(s))));
        if (seen[0] === '' || !seen.every((l) => l === seen[0])) throw new Error(`leaders seen: ${JSON.stringify(seen)}`);
        return seen[0];
      },
      { timeoutMs, intervalMs: 100, context: ctx },
    );
    const leader = servers.find((s) => rpcAddr(s) === addr);
    if (!leader) throw new Error(`leader ${addr} is not one of ${servers.map(rpcAddr).join(', ')}`);
    return leader.name;
  };

  const close = async (): Promise<void> => {
    await group.killAll();
    await Promise.allSettled([...web3.values()].map((w) => w.stop()));
    if (process.env.MUSTER_KEEP_UI_TEST !== '1') fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    for (const n of nodes.filter((x) => x.web3)) {
      const w = new Web3Service(n);
      web3.set(n.name, w);
      await w.start();
    }
    await Promise.all(nodes.map((n) => startAgent(n)));
    // `consul join`, as the agent's HTTP endpoint the CLI calls.
    await put(`http://${httpAddr(UI_NODES.n2)}/v1/agent/join/${UI_NODES.n1.ip}`);
    await put(`http://${httpAddr(UI_NODES.n3)}/v1/agent/join/${UI_NODES.n1.ip}`);
    await agreedLeader(15_000);
    await waitFor(
      `${UI_NODE.name} sees n1, n2, n3 alive and web3 passing on n2 and n3`,
      async () => {
        const members = await getJson<Array<{ Name: string; Status: number }>>(`http://${httpAddr(UI_NODE)}/v1/agent/members`);
        const alive = members.filter((m) => m.Status === 1).map((m) => m.Name).sort();
        const health = await getJson<Array<{ Node: { Node: string } }>>(`http://${httpAddr(UI_NODE)}/v1/health/service/web3?passing`);
        const passing = health.map((h) => h.Node.Node).sort();
        if (alive.join() !== 'n1,n2,n3' || passing.join() !== 'n2,n3') throw new Error(`alive [${alive}] web3 passing on [${passing}]`);
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, context: ctx },
    );
  } catch (err) {
    await close();
    throw err;
  }

  return {
    url: `http://${httpAddr(UI_NODE)}`,
    async setCheck(node, checkId, status) {
      const w = web3.get(node);
      if (!w || checkId !== 'service:web3') throw new Error(`setCheck: only service:web3 on n2 or n3 has a real service behind it, not ${checkId} on ${node}`);
      await w.set(status);
    },
    leader: () => agreedLeader(10_000),
    async loseLeader() {
      const victim = procs[QUORUM_VICTIM.name];
      if (!victim || victim.exitCode !== undefined) throw new Error(`loseLeader: ${QUORUM_VICTIM.name} is not running`);
      await group.signalAndWait(victim, 'SIGTERM', 10_000);
      await waitFor(`${UI_NODE.name} reports no leader once ${QUORUM_VICTIM.name} stopped`, async () => (await leaderOf(httpAddr(UI_NODE))) === '', {
        timeoutMs: 10_000,
        intervalMs: 100,
        context: ctx,
      });
    },
    async restoreLeader() {
      await startAgent(QUORUM_VICTIM, [`-join=${UI_NODE.ip}`]);
      await agreedLeader(20_000);
    },
    async leaveNode(node) {
      const proc = procs[node];
      if (!proc || proc.exitCode !== undefined) throw new Error(`leaveNode: ${node} is not running`);
      const r = await runCli(['leave', `-http-addr=${httpAddr(UI_NODES[node])}`], { timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(`muster leave on ${node} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n${ctx()}`);
      await withDeadline(proc.exited, 10_000, `${node} did not exit after leave\n${ctx()}`);
    },
    logs: ctx,
    close,
  };
}
