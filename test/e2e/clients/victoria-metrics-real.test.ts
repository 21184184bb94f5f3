// test/e2e/clients/victoria-metrics-real.test.ts — Debian's victoria-metrics reading
// Prometheus `consul_sd_configs` against real Muster agents (#16's Prometheus bullet, #21):
// every instance discovered with its __meta_consul_* labels (service, tags, node, address,
// service_address/port, health, dc, service metadata, node metadata), and instances added,
// removed or failing seen within seconds through blocking queries. The servers' own `consul`
// service (port 8300) is discovered too, as with Consul; it is dropped by relabelling so
// victoria-metrics does not scrape the RPC port every second.
// (Debian's `prometheus` 2.42 is built without Consul discovery — the binary holds no
// discovery/consul package — so `promtool check config` refuses `consul_sd_configs` with "field
// consul_sd_configs not found in type config.ScrapeConfig": see the last test.)
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.24.2 (the dns engineer's block 127.24.0.0/16).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup, freshTempDir, http, waitFor } from '../harness.ts';

const S1 = '127.24.2.1';
const C1 = '127.24.2.2';
const VM = `${S1}:18428`;
const tmp = freshTempDir('vmetrics');
const group = new ProcessGroup(tmp);

type Labels = Record<string, string>;

async function put(ip: string, p: string, body?: string): Promise<void> {
  const r = await http(`http://${ip}:8500${p}`, { method: 'PUT', body });
  if (r.status !== 200) throw new Error(`PUT ${ip}${p} → ${r.status} ${r.text}`);
}

/** victoria-metrics' discovered targets (its Prometheus-compatible /api/v1/targets). */
async function discovered(): Promise<Labels[]> {
  const r = await http(`http://${VM}/api/v1/targets`);
  if (r.status !== 200) return [];
  type Target = { discoveredLabels: Labels; labels?: Labels };
  const doc = JSON.parse(r.text) as { data: { activeTargets: Target[]; droppedTargets?: Target[] } };
  return [...doc.data.activeTargets, ...(doc.data.droppedTargets ?? [])]
    .map((t) => ({ ...t.discoveredLabels, ...t.labels }))
    .filter((l) => l['__meta_consul_service'] !== undefined);
}

const ids = (ls: Labels[]): string[] => ls.map((l) => l['__meta_consul_service_id']!).sort();

/** Waits (bounded) until the discovered service IDs are exactly `want`; returns the ms it took. */
async function discoveredBecome(want: string[], timeoutMs: number): Promise<{ ms: number; labels: Labels[] }> {
  const t0 = Date.now();
  let last: Labels[] = [];
  await waitFor(
    `victoria-metrics discovers ${want.join(', ')}`,
    async () => {
      last = await discovered();
      return JSON.stringify(ids(last)) === JSON.stringify([...want].sort());
    },
    { timeoutMs, intervalMs: 200, context: () => `last: ${ids(last).join(', ')}\n${group.tails(15)}` },
  );
  return { ms: Date.now() - t0, labels: last };
}

beforeAll(async () => {
  const r = spawnSync('victoria-metrics', ['-version'], { encoding: 'utf8' });
  if (r.error) throw new Error(`victoria-metrics could not run (${r.error.message}); install it with \`apt-get install victoria-metrics\` (CI's .ci/run does)`);
  group.agent('s1', ['-server', '-bootstrap-expect', '1', '-data-dir', path.join(tmp, 's1'), '-node=s1', `-bind=${S1}`, `-client=${S1}`]);
  // A single server elects itself within a few election timeouts; 30 s covers a loaded CI box.
  await waitFor(
    'a leader',
    async () => {
      const x = await http(`http://${S1}:8500/v1/status/leader`).catch(() => undefined);
      return x && x.status === 200 && x.text.includes(':8300');
    },
    { timeoutMs: 30_000, intervalMs: 250, context: () => group.tails(20) },
  );
  group.agent('c1', ['-data-dir', path.join(tmp, 'c1'), '-node=c1', `-bind=${C1}`, `-client=${C1}`, `-join=${S1}`]);
  await waitFor(
    'c1 in the catalog',
    async () => JSON.parse((await http(`http://${S1}:8500/v1/catalog/nodes`)).text).some((n: { Node: string }) => n.Node === 'c1'),
    { timeoutMs: 30_000, intervalMs: 250, context: () => group.tails(20) },
  );
  const register = async (ip: string, def: object, id: string): Promise<void> => {
    await put(ip, '/v1/agent/service/register', JSON.stringify({ ...def, ID: id, Check: { TTL: '10m' } }));
    await put(ip, `/v1/agent/check/pass/service:${id}`);
  };
  for (const port of [18081, 18082]) {
    await register(S1, { Name: 'web', Port: port, Tags: ['primary', `p${port}`], Meta: { version: `v${port}` } }, `web-${port}`);
  }
  await register(C1, { Name: 'db', Port: 5432, Address: '127.24.2.50', Tags: ['sql'], Meta: { engine: 'pg' } }, 'db-1');
  await waitFor(
    'three passing instances in the catalog',
    async () =>
      JSON.parse((await http(`http://${S1}:8500/v1/health/service/web?passing`)).text).length === 2 &&
      JSON.parse((await http(`http://${S1}:8500/v1/health/service/db?passing`)).text).length === 1,
    { timeoutMs: 15_000, intervalMs: 250, context: () => group.tails(20) },
  );
  // Node metadata comes from an external node registered through the catalog: the agents do not
  // carry -node-meta into the catalog yet, and c1's anti-entropy would overwrite meta written to
  // its own node entry.
  await put(
    S1,
    '/v1/catalog/register',
    JSON.stringify({ Node: 'ext1', Address: '127.24.2.60', NodeMeta: { rack: 'r1' }, Service: { ID: 'db-2', Service: 'db', Port: 5433 } }),
  );

  const cfg = path.join(tmp, 'scrape.yml');
  fs.writeFileSync(
    cfg,
    `scrape_configs:
  - job_name: consul
    scrape_interval: 1s
    consul_sd_configs:
      - server: ${S1}:8500
    relabel_configs:
      # victoria-metrics keeps a target's discovered labels while its final labels stay the
      # same, so the health is copied into a target label for a change to show.
      - source_labels: [__meta_consul_health]
        target_label: consul_health
      - source_labels: [__meta_consul_service]
        regex: consul
        action: drop
`,
  );
  group.spawn('victoria-metrics', 'victoria-metrics', [
    `-httpListenAddr=${VM}`,
    `-storageDataPath=${path.join(tmp, 'vm-data')}`,
    `-promscrape.config=${cfg}`,
    // How often the targets are rebuilt from what the blocking queries last returned.
    '-promscrape.consulSDCheckInterval=1s',
    '-loggerLevel=ERROR',
  ]);
}, 90_000);

afterAll(async () => {
  await group.killAll();
});

// The watcher's blocking queries answer within ms of a write; 15 s bounds VM's start-up and a
// loaded CI box while staying "within seconds".
const BOUND_MS = 15_000;

describe('victoria-metrics consul_sd_configs on Muster', () => {
  it('discovers every instance with every __meta_consul_* label', async () => {
    const { labels } = await discoveredBecome(['consul', 'db-1', 'db-2', 'web-18081', 'web-18082'], 30_000);
    const web = labels.find((l) => l['__meta_consul_service_id'] === 'web-18081')!;
    expect(web).toMatchObject({
      __address__: `${S1}:18081`,
      __meta_consul_service: 'web',
      __meta_consul_node: 's1',
      __meta_consul_address: S1,
      __meta_consul_service_address: '',
      __meta_consul_service_port: '18081',
      __meta_consul_tags: ',primary,p18081,',
      __meta_consul_dc: 'dc1',
      __meta_consul_health: 'passing',
      __meta_consul_service_metadata_version: 'v18081',
    });
    expect(labels.find((l) => l['__meta_consul_service_id'] === 'consul')).toMatchObject({
      __meta_consul_service: 'consul',
      __meta_consul_node: 's1',
      __meta_consul_service_port: '8300',
    });
    const db = labels.find((l) => l['__meta_consul_service_id'] === 'db-1')!;
    expect(db).toMatchObject({
      __address__: '127.24.2.50:5432',
      __meta_consul_service: 'db',
      __meta_consul_node: 'c1',
      __meta_consul_address: C1,
      __meta_consul_service_address: '127.24.2.50',
      __meta_consul_service_port: '5432',
      __meta_consul_service_metadata_engine: 'pg',
    });
    expect(labels.find((l) => l['__meta_consul_service_id'] === 'db-2')).toMatchObject({
      __address__: '127.24.2.60:5433',
      __meta_consul_node: 'ext1',
      __meta_consul_address: '127.24.2.60',
      __meta_consul_metadata_rack: 'r1',
      __meta_consul_health: 'passing',
    });
  }, 60_000);

  it('sees an instance added, failing and removed within seconds', async () => {
    await put(S1, '/v1/agent/service/register', JSON.stringify({ ID: 'web-18083', Name: 'web', Port: 18083, Check: { TTL: '10m' } }));
    await put(S1, '/v1/agent/check/pass/service:web-18083');
    const added = await discoveredBecome(['consul', 'db-1', 'db-2', 'web-18081', 'web-18082', 'web-18083'], BOUND_MS);
    await put(S1, '/v1/agent/check/fail/service:web-18082');
    const t0 = Date.now();
    await waitFor(
      'web-18082 labelled critical',
      async () => (await discovered()).find((l) => l['__meta_consul_service_id'] === 'web-18082')?.['consul_health'] === 'critical',
      { timeoutMs: BOUND_MS, intervalMs: 200, context: () => group.tails(15) },
    );
    const failedMs = Date.now() - t0;
    await put(S1, '/v1/agent/service/deregister/web-18081');
    const removed = await discoveredBecome(['consul', 'db-1', 'db-2', 'web-18082', 'web-18083'], BOUND_MS);
    console.log(`victoria-metrics: added seen in ${added.ms} ms, critical in ${failedMs} ms, removed in ${removed.ms} ms`);
    expect(added.ms).toBeLessThan(BOUND_MS);
    expect(failedMs).toBeLessThan(BOUND_MS);
    expect(removed.ms).toBeLessThan(BOUND_MS);
  }, 60_000);

  it("Debian's prometheus 2.42 has no Consul discovery: it refuses consul_sd_configs", () => {
    const r = spawnSync('promtool', ['check', 'config', path.join(tmp, 'scrape.yml')], { encoding: 'utf8' });
    if (r.error) throw new Error(`promtool could not run (${r.error.message}); install it with \`apt-get install prometheus\` (CI's .ci/run does)`);
    expect(`${r.stdout}${r.stderr}`).toMatch(/field consul_sd_configs not found in type config\.ScrapeConfig/);
    expect(r.status).not.toBe(0);
  });
});
