// Test helpers: drive a simulated cluster of real agents synchronously.
import dnsPacket from 'dns-packet';
import { SimWorld } from '../../sim/world.ts';
import { spawnAgent, type SimAgent } from '../../sim/cluster/agents.ts';
import { buildQuery } from '../../core/dns/query.ts';

export const N1 = '10.10.105.71';
export const N2 = '10.10.126.101';
export const N3 = '10.10.126.187';

export function serverArgs(name: string, ip: string, extra: string[] = []): string[] {
  return ['-server', '-bootstrap-expect', '2', '-data-dir', '/tmp/consul', `-node=${name}`, `-bind=${ip}`, '-dc=dc1', ...extra];
}

export function clientArgs(name: string, ip: string, extra: string[] = []): string[] {
  return ['-data-dir', '/tmp/consul', `-node=${name}`, `-bind=${ip}`, '-dc=dc1', ...extra];
}

export function walkthroughWorld(seed: number | string): SimWorld {
  const world = new SimWorld({ seed, traceEnabled: false });
  world.addHost(N1, 'n1');
  world.addHost(N2, 'n2');
  world.addHost(N3, 'n3');
  return world;
}

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** One HTTP request from a host, run to completion in virtual time. */
export function http(world: SimWorld, fromIp: string, method: string, url: string, body?: string): HttpResult {
  let out: HttpResult | string | undefined;
  world.httpRequest(fromIp, url, { method, body, timeoutMs: 30_000 }, (r) => {
    out = r.ok ? { status: r.status, body: r.body, headers: r.headers } : `${r.reason}: ${r.detail}`;
  });
  world.runUntilTrue(() => out !== undefined, 60_000);
  if (out === undefined) throw new Error(`no answer to ${method} ${url} from ${fromIp}`);
  if (typeof out === 'string') throw new Error(`${method} ${url} from ${fromIp} failed: ${out}`);
  return out;
}

export function leaderOf(a: SimAgent): string | null {
  return a.agent?.agent.raft?.leader ?? null;
}

/** SRV targets answered by the agent's DNS server on fromIp, sorted. */
export function digSrv(world: SimWorld, fromIp: string, name: string): string[] {
  let answer: Uint8Array | null | undefined;
  world.dnsQuery(fromIp, `127.0.0.1:8600`, buildQuery(name, 'SRV', { id: 7 }), { transport: 'udp', timeoutMs: 5000 }, (a) => (answer = a));
  world.runUntilTrue(() => answer !== undefined, 10_000);
  if (!answer) return [];
  const decoded = dnsPacket.decode(Buffer.from(answer));
  return (decoded.answers ?? [])
    .filter((a) => a.type === 'SRV')
    .map((a) => `${(a.data as { target: string; port: number }).target}:${(a.data as { port: number }).port}`)
    .sort();
}

export { spawnAgent };
