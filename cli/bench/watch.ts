// cli/bench/watch.ts — `muster bench watch`: how many blocking queries one catalog write wakes.
//
// Owns: a real single-server agent in this process holding N services (one instance each,
// spread over 50 nodes), N blocking `GET /v1/health/service/<svc>?index=` held open (one per
// service, re-issued at once with the new index, as consul-template and Prometheus do), then
// writes that each flip one service's check; it counts the wake-ups each write caused. The
// baseline in the same run is the same workload on the catalog FSM with table-level indexes
// (how every health watcher was keyed before per-service indexes: any check change moved
// them all).
// Must never: run inside tests, fail on a timing, or talk to anything but 127.0.0.1.
import http from 'node:http';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import type { CatalogWatch } from '../../core/catalog/watch.ts';
import { startRealAgent } from '../commands/agent.ts';

const HOST = '127.0.0.1';
const NODES = 50;

function option(args: string[], name: string, dflt: number, max: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`--${name} needs a whole number from 1 to ${max}, got '${args[i + 1]}'`);
  return v;
}

const registration = (i: number, status: string): string =>
  JSON.stringify({
    Node: `n${i % NODES}`,
    Address: `10.0.0.${(i % NODES) + 1}`,
    Service: { ID: `svc${i}`, Service: `svc${i}`, Port: 1000 + i },
    Checks: [{ CheckID: `service:svc${i}`, Name: `svc${i}`, Status: status, ServiceID: `svc${i}` }],
  });

/** The same workload on the FSM: wake-ups per write when health reads watch these indexes. */
function modelWakeUps(services: number, writes: number, watchOf: (svc: string) => CatalogWatch): number[] {
  const fsm = new CatalogFSM();
  let index = 0;
  const register = (i: number, status: string): void => {
    const body = JSON.parse(registration(i, status));
    fsm.apply(++index, {
      op: 'register',
      nowMs: 0,
      node: { Node: body.Node, Address: body.Address },
      service: { ID: body.Service.ID, Service: body.Service.Service, Port: body.Service.Port },
      checks: [{ CheckID: body.Checks[0].CheckID, Name: body.Checks[0].Name, Status: status as 'passing', ServiceID: body.Service.ID }],
    });
  };
  for (let i = 0; i < services; i++) register(i, 'passing');
  const minIndex = Array.from({ length: services }, (_, i) => fsm.indexFor(watchOf(`svc${i}`)));
  const out: number[] = [];
  for (let w = 0; w < writes; w++) {
    const i = (Math.floor(w / 2) * 37) % services;
    register(i, w % 2 === 0 ? 'critical' : 'passing');
    let woken = 0;
    for (let s = 0; s < services; s++) {
      const now = fsm.indexFor(watchOf(`svc${s}`));
      if (now > minIndex[s]!) {
        woken++;
        minIndex[s] = now;
      }
    }
    out.push(woken);
  }
  return out;
}

function get(agent: http.Agent, port: number, path: string): Promise<{ status: number; index: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, index: Number(res.headers['x-consul-index'] ?? 0) }));
    });
    req.on('error', reject);
  });
}

export async function benchWatch(args: string[]): Promise<number> {
  const say = (s: string): void => void process.stdout.write(s);
  let services: number;
  let writes: number;
  try {
    services = option(args, 'services', 1000, 5000);
    writes = option(args, 'writes', 10, 100);
  } catch (e) {
    say(`bench watch: ${(e as Error).message}. Options: --services N (default 1000), --writes N (default 10)\n`);
    return 1;
  }
  // Write 2k makes service k·37 critical, write 2k+1 makes it pass again: every write changes one check.
  const before = modelWakeUps(services, writes, () => ({ kind: 'tables', tables: ['nodes', 'services', 'checks'] }));
  const model = modelWakeUps(services, writes, (service) => ({ kind: 'service', service }));

  const port = 19500 + Math.floor(Math.random() * 400);
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-bench-watch-'));
  const started = await startRealAgent(
    ['-server', '-bootstrap', '-data-dir', dataDir, '-node=bench', `-bind=${HOST}`, `-client=${HOST}`, `-http-port=${port}`, `-dns-port=${port + 1000}`, '-log-level=err'],
    { stdout: () => {}, logStream: createWriteStream('/dev/null') },
  );
  if (typeof started === 'number') {
    say(`bench watch: the agent did not start (exit ${started})\n`);
    return 1;
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let stopping = false;
  try {
    const put = async (body: string): Promise<void> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const r = await fetch(`http://${HOST}:${port}/v1/catalog/register`, { method: 'PUT', body }).catch(() => null);
        if (r?.ok) return;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error('PUT /v1/catalog/register kept failing (no leader within 10 s?)');
    };
    const t0 = performance.now();
    for (let i = 0; i < services; i++) await put(registration(i, 'passing'));
    say(`registered ${services} services on ${NODES} nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    let wakeUps = 0;
    const woken = new Set<number>();
    const watch = async (i: number): Promise<void> => {
      let index = (await get(agent, port, `/v1/health/service/svc${i}`)).index;
      while (!stopping) {
        const r = await get(agent, port, `/v1/health/service/svc${i}?index=${index}&wait=120s`).catch(() => null);
        if (!r || stopping) return;
        if (r.index !== index) {
          wakeUps++;
          woken.add(i);
        }
        index = r.index;
      }
    };
    const watchers = Array.from({ length: services }, (_, i) => watch(i));
    // Let every watcher park (its first, non-blocking read answered, the second one held).
    await new Promise((res) => setTimeout(res, 2000));
    wakeUps = 0;
    const perWrite: number[] = [];
    for (let w = 0; w < writes; w++) {
      const i = (Math.floor(w / 2) * 37) % services;
      woken.clear();
      const at = wakeUps;
      await put(registration(i, w % 2 === 0 ? 'critical' : 'passing'));
      // 500 ms is far more than a wake-up takes on loopback (a few ms); a watcher woken later
      // would be counted against the next write and show up as more than one.
      await new Promise((res) => setTimeout(res, 500));
      perWrite.push(wakeUps - at);
      if (woken.size > 0 && !woken.has(i)) say(`  write ${w}: woke watchers of other services: ${[...woken].slice(0, 5).join(', ')}\n`);
    }
    stopping = true;
    const mean = (xs: number[]): string => (xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(2);
    say(`\n${services} blocking GET /v1/health/service/<svc>?index= held open, ${writes} writes, each flipping one service's check\n`);
    say(`  before: table-level indexes (FSM model, same workload)   wake-ups/write ${mean(before)}   [${before.join(' ')}]\n`);
    say(`  after:  per-service indexes (FSM model)                  wake-ups/write ${mean(model)}   [${model.join(' ')}]\n`);
    say(`  after:  real agent over HTTP (measured)                  wake-ups/write ${mean(perWrite)}   [${perWrite.join(' ')}]\n`);
    say(`goal: 1 wake-up per write (exactly the watcher of the service written)\n`);
    void watchers;
    return 0;
  } catch (e) {
    say(`bench watch: ${e instanceof Error ? e.message : String(e)}\n`);
    return 0;
  } finally {
    stopping = true;
    agent.destroy();
    started.process.signal('SIGTERM');
    await started.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
