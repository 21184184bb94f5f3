// cli/tui/sim-cluster.ts — the random simulated cluster of `muster tui --seed N --servers S --clients C`.
//
// Owns: laying out hosts (servers 10.10.1.x, clients 10.10.2.x), spawning real agents on them
// (servers with -bootstrap-expect S, everyone joining the first server at start), and a `web`
// service with an HTTP check on every client so the services panel shows DNS health.
// Must never: step the world (the driver owns time) or touch agent state directly.
import { SimWorld } from '../../sim/world.ts';
import { spawnAgent, type SimAgent } from '../../sim/cluster/agents.ts';

export interface SimClusterSpec {
  seed: string | number;
  servers: number;
  clients: number;
}

export interface SimCluster {
  world: SimWorld;
  agents: SimAgent[];
}

export function serverIp(i: number): string {
  return `10.10.1.${i + 1}`;
}
export function clientIp(i: number): string {
  return `10.10.2.${i + 1}`;
}

const WEB_PORT = 80;

/** Hosts and agents at virtual time 0; nothing has run yet. */
export function buildSimCluster(spec: SimClusterSpec): SimCluster {
  if (!Number.isInteger(spec.servers) || spec.servers < 1 || spec.servers > 9) throw new Error(`--servers must be a whole number from 1 to 9, got ${spec.servers}`);
  if (!Number.isInteger(spec.clients) || spec.clients < 0 || spec.clients > 9) throw new Error(`--clients must be a whole number from 0 to 9, got ${spec.clients}`);
  const world = new SimWorld({ seed: spec.seed });
  const agents: SimAgent[] = [];
  const first = serverIp(0);
  for (let i = 0; i < spec.servers; i++) {
    const ip = serverIp(i);
    const name = `n${i + 1}`;
    world.addHost(ip, name);
    const args = ['-server', '-bootstrap-expect', String(spec.servers), '-data-dir', '/tmp/consul', `-node=${name}`, `-bind=${ip}`, '-dc=dc1'];
    if (i > 0) args.push('-join', first);
    agents.push(spawnAgent(world, ip, args));
  }
  for (let i = 0; i < spec.clients; i++) {
    const ip = clientIp(i);
    const name = `c${i + 1}`;
    const host = world.addHost(ip, name);
    host.disk.writeText(
      '/etc/consul.d/web.json',
      JSON.stringify({
        service: { name: 'web', tags: ['rails'], port: WEB_PORT, check: { http: `http://${ip}:${WEB_PORT}/health`, interval: '10s' } },
      }),
    );
    // The last of several clients serves nothing, so its check fails and DNS leaves it out.
    if (spec.clients < 2 || i < spec.clients - 1) host.serveHttp(WEB_PORT, () => ({ status: 200, body: 'ok\n' }));
    const args = ['-data-dir', '/tmp/consul', `-node=${name}`, `-bind=${ip}`, '-dc=dc1', '-config-dir', '/etc/consul.d', '-join', first];
    agents.push(spawnAgent(world, ip, args));
  }
  return { world, agents };
}
