// Issue 5's property: after random faults and a heal, every agent's catalog view converges
// and matches its local state (anti-entropy repairs whatever the faults broke).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SimWorld, type FaultSchedule } from '../../sim/world.ts';
import { spawnAgent, type SimAgent } from '../../sim/cluster/agents.ts';
import { http } from './helpers.ts';

const SERVERS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const CLIENTS = ['10.0.0.11', '10.0.0.12'];
const ALL = [...SERVERS, ...CLIENTS];
const WEB = JSON.stringify({
  service: { name: 'web', port: 80, tags: ['v1'], checks: [{ http: 'http://localhost:80/health', interval: '5s' }] },
});

interface Cluster {
  world: SimWorld;
  agents: Map<string, SimAgent>;
}

function startCluster(seed: string): Cluster {
  const world = new SimWorld({ seed, traceEnabled: false });
  const agents = new Map<string, SimAgent>();
  SERVERS.forEach((ip, i) => {
    world.addHost(ip, `s${i + 1}`);
    agents.set(ip, spawnAgent(world, ip, ['-server', '-bootstrap-expect', '3', '-data-dir', '/data', `-node=s${i + 1}`, `-bind=${ip}`, '-retry-join', SERVERS[0]!, '-retry-interval', '2s']));
  });
  CLIENTS.forEach((ip, i) => {
    const h = world.addHost(ip, `c${i + 1}`);
    h.disk.writeText('/etc/consul.d/web.json', WEB);
    h.serveHttp(80, () => ({ status: 200, body: 'ok' }));
    agents.set(ip, spawnAgent(world, ip, ['-data-dir', '/data', `-node=c${i + 1}`, `-bind=${ip}`, '-config-dir', '/etc/consul.d', '-retry-join', SERVERS[0]!, '-retry-interval', '2s']));
  });
  return { world, agents };
}

const faultArb: fc.Arbitrary<FaultSchedule> = fc
  .array(
    fc.oneof(
      fc.record({ atMs: fc.integer({ min: 0, max: 40_000 }), kind: fc.constant('isolate' as const), ip: fc.constantFrom(...ALL) }),
      fc.record({
        atMs: fc.integer({ min: 0, max: 40_000 }),
        kind: fc.constant('partition' as const),
        groups: fc.shuffledSubarray(ALL, { minLength: 1, maxLength: 4 }).map((g) => [g, ALL.filter((x) => !g.includes(x))]),
      }),
      fc.record({ atMs: fc.integer({ min: 0, max: 40_000 }), kind: fc.constant('heal' as const) }),
      fc.record({
        atMs: fc.integer({ min: 0, max: 40_000 }),
        kind: fc.constant('link' as const),
        from: fc.constantFrom(...ALL),
        to: fc.constantFrom(...ALL),
        cfg: fc.record({ loss: fc.double({ min: 0, max: 0.3, noNaN: true }) }),
      }),
      fc.record({ atMs: fc.integer({ min: 0, max: 40_000 }), kind: fc.constant('stall' as const), ip: fc.constantFrom(...ALL), durationMs: fc.integer({ min: 100, max: 5_000 }) }),
    ),
    { maxLength: 8 },
  )
  .map((fs) => fs.filter((f) => !(f.kind === 'link' && f.from === f.to)));

function healAll(c: Cluster): void {
  c.world.net.heal();
  for (const a of ALL) for (const b of ALL) if (a !== b) c.world.net.setLink(a, b, { loss: 0 });
}

function converged(c: Cluster): string | null {
  const servers = SERVERS.map((ip) => c.agents.get(ip)!.agent!.agent);
  const leaders = new Set(servers.map((s) => s.raft!.leader));
  if (leaders.size !== 1 || [...leaders][0] === null) return `servers disagree on the leader: ${[...leaders].join(', ')}`;
  const snaps = new Set(servers.map((s) => Buffer.from(s.fsm!.snapshot()).toString('base64')));
  if (snaps.size !== 1) return 'server catalogs differ';
  const fsm = servers[0]!.fsm!;
  for (const [i, ip] of CLIENTS.entries()) {
    const node = `c${i + 1}`;
    const svc = fsm.nodeServices(node).map((s) => s.ID);
    if (svc.join() !== 'web') return `${node}: catalog services [${svc.join()}] ≠ local [web]`;
    const local = c.agents.get(ip)!.agent!.agent.local;
    for (const chk of local.sortedChecks()) {
      const remote = fsm.nodeChecks(node).find((x) => x.CheckID === chk.id);
      if (!remote || remote.Status !== chk.status) return `${node}: check ${chk.id} is ${remote?.Status} in the catalog, ${chk.status} locally`;
    }
    const serf = fsm.nodeChecks(node).find((x) => x.CheckID === 'serfHealth');
    if (serf?.Status !== 'passing') return `${node}: serfHealth ${serf?.Status}`;
  }
  for (const ip of ALL) {
    const m = c.agents.get(ip)!.agent!.agent.lan.members();
    const alive = m.filter((x) => x.status === 'alive').length;
    if (alive !== ALL.length) return `${ip} sees ${alive} alive members`;
  }
  return null;
}

describe('catalog convergence after faults', () => {
  it('every agent converges after a heal and the catalog matches local state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), faultArb, (seed, faults) => {
        const c = startCluster(`conv-${seed}`);
        c.world.runFor(20_000);
        expect(converged(c), 'cluster formed before faults').toBeNull();
        c.world.applyFaults(faults.map((f) => ({ ...f, atMs: c.world.nowMs() + f.atMs })));
        c.world.runFor(45_000);
        healAll(c);
        let why: string | null = 'not checked';
        c.world.runUntilTrue(() => (why = converged(c)) === null, 120_000);
        expect(why, `seed ${seed}; faults ${JSON.stringify(faults)}`).toBeNull();
        // and the HTTP view on a client agrees (it forwards to a server)
        const health = JSON.parse(http(c.world, CLIENTS[0]!, 'GET', 'http://127.0.0.1:8500/v1/health/service/web?passing').body) as unknown[];
        expect(health).toHaveLength(2);
      }),
      { numRuns: 12, seed: Number(process.env.FC_SEED ?? 20261125) },
    );
  });
});
