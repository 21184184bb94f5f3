// A client no one here wrote — the `consul` npm package (node-consul v2) — against the
// express adapter + core handler + fake backend over loopback.
import Consul from 'consul';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningHttpServer } from '../../transports/http-server.ts';
import { FakeBackend } from './fake-backend.ts';

const IP = '127.0.0.61';

let backend: FakeBackend;
let server: RunningHttpServer;
let consul: Consul;

beforeAll(async () => {
  backend = new FakeBackend({ nodeName: 'n2', address: '10.10.126.101' });
  server = await startHttpServer({ ip: IP, port: 0, handle: (r) => backend.handle(r) });
  const port = Number(server.address.split(':')[1]);
  consul = new Consul({ host: IP, port });
});

afterAll(async () => {
  backend.close();
  consul.destroy();
  await server.close();
});

describe('node-consul against Muster', () => {
  it('registers a service with a check; catalog and health (passing) see it', async () => {
    await consul.agent.service.register({
      name: 'web3',
      id: 'web3',
      tags: ['master'],
      address: '127.0.0.1',
      port: 10000,
      // node-consul's typings demand name/timeout even for TTL checks; Consul does not.
      check: { ttl: '30s' } as never,
    });
    const local = (await consul.agent.service.list()) as Record<string, { Service: string; Port: number }>;
    expect(local['web3']).toMatchObject({ Service: 'web3', Port: 10000 });

    const services = (await consul.catalog.service.list()) as Record<string, string[]>;
    expect(services).toEqual({ web3: ['master'] });
    const nodes = (await consul.catalog.service.nodes('web3')) as Array<{ Node: string; ServicePort: number }>;
    expect(nodes.map((n) => [n.Node, n.ServicePort])).toEqual([['n2', 10000]]);

    // Initial status is critical, so ?passing hides it until the TTL check passes.
    expect(await consul.health.service({ service: 'web3', passing: true })).toEqual([]);
    await consul.agent.check.pass({ id: 'service:web3', note: 'up' });
    const healthy = (await consul.health.service({ service: 'web3', passing: true })) as Array<{
      Node: { Node: string };
      Service: { ID: string };
      Checks: Array<{ CheckID: string; Status: string }>;
    }>;
    expect(healthy).toHaveLength(1);
    expect(healthy[0]!.Service.ID).toBe('web3');
    expect(healthy[0]!.Checks.map((c) => `${c.CheckID}=${c.Status}`).sort()).toEqual(['serfHealth=passing', 'service:web3=passing']);
    const checks = (await consul.agent.check.list()) as Record<string, { Status: string; Output: string }>;
    expect(checks['service:web3']).toMatchObject({ Status: 'passing', Output: 'up' });
  });

  it('KV put/get/cas/delete, keys and recurse', async () => {
    expect(await consul.kv.set('app/config', 'v1')).toBe(true);
    const got = (await consul.kv.get('app/config')) as { Value: string; ModifyIndex: number; Key: string };
    expect(got.Key).toBe('app/config');
    expect(got.Value).toBe('v1');
    // node-consul v2 turns a `false` body into undefined (papi's next(false, value) quirk).
    expect(await consul.kv.set({ key: 'app/config', value: 'v2', cas: got.ModifyIndex + 1000 })).not.toBe(true);
    expect(((await consul.kv.get('app/config')) as { Value: string }).Value).toBe('v1');
    expect(await consul.kv.set({ key: 'app/config', value: 'v2', cas: got.ModifyIndex })).toBe(true);
    expect(((await consul.kv.get('app/config')) as { Value: string }).Value).toBe('v2');
    await consul.kv.set('app/other', 'x');
    expect(await consul.kv.keys('app/')).toEqual(['app/config', 'app/other']);
    const all = (await consul.kv.get({ key: 'app/', recurse: true })) as Array<{ Key: string }>;
    expect(all.map((e) => e.Key)).toEqual(['app/config', 'app/other']);
    expect(await consul.kv.get('missing/key')).toBeUndefined();
    await consul.kv.del('app/other');
    expect(await consul.kv.get('app/other')).toBeUndefined();
  });

  it('sessions: create, info, list, node, renew; acquire/release a lock; destroy', async () => {
    const { ID: s1 } = (await consul.session.create({ name: 'leader', ttl: '15s', lockdelay: '1s' })) as { ID: string };
    const { ID: s2 } = (await consul.session.create()) as { ID: string };
    const info = (await consul.session.info(s1)) as { ID: string; TTL: string; Node: string; LockDelay: number };
    expect(info).toMatchObject({ ID: s1, TTL: '15s', Node: 'n2', LockDelay: 1e9 });
    expect(((await consul.session.list()) as unknown[]).length).toBe(2);
    expect(((await consul.session.node('n2')) as unknown[]).length).toBe(2);
    const renewed = (await consul.session.renew(s1)) as Array<{ ID: string }>;
    expect(renewed[0]!.ID).toBe(s1);

    expect(await consul.kv.set({ key: 'service/leader', value: 'n2', acquire: s1 })).toBe(true);
    expect(await consul.kv.set({ key: 'service/leader', value: 'other', acquire: s2 })).not.toBe(true);
    expect(((await consul.kv.get('service/leader')) as unknown as { Session: string }).Session).toBe(s1);
    expect(await consul.kv.set({ key: 'service/leader', value: 'n2', release: s1 })).toBe(true);
    expect(((await consul.kv.get('service/leader')) as unknown as { Session?: string }).Session).toBeUndefined();

    await expect(consul.kv.set({ key: 'service/leader', value: 'x', acquire: 'not-a-session' })).rejects.toThrow(
      'invalid session "not-a-session"',
    );
    await consul.session.destroy(s1);
    expect(await consul.session.info(s1)).toBeUndefined();
  });

  it('a blocking query (consul.watch) wakes on a change', async () => {
    await consul.kv.set('watched', 'a');
    const seen: string[] = [];
    const watch = consul.watch({ method: consul.kv.get, options: { key: 'watched', wait: '5s' } });
    const done = new Promise<void>((resolve, reject) => {
      watch.on('change', (data: { Value: string } | undefined) => {
        seen.push(data?.Value ?? '(none)');
        if (seen.length === 1) setTimeout(() => void consul.kv.set('watched', 'b'), 50);
        if (seen.length === 2) resolve();
      });
      watch.on('error', reject);
    });
    await done;
    watch.end();
    expect(seen).toEqual(['a', 'b']);
  });

  it('status leader and peers', async () => {
    expect(await consul.status.leader()).toBe('10.10.126.101:8300');
    expect(await consul.status.peers()).toEqual(['10.10.126.101:8300']);
  });

  it('agent self and members', async () => {
    const self = (await consul.agent.self()) as { Config: { NodeName: string }; Member: { Status: number } };
    expect(self.Config.NodeName).toBe('n2');
    expect(self.Member.Status).toBe(1);
    const members = (await consul.agent.members()) as Array<{ Name: string; Addr: string }>;
    expect(members.map((m) => m.Name)).toEqual(['n2']);
  });

  it('deregisters the service', async () => {
    await consul.agent.service.deregister('web3');
    expect(await consul.catalog.service.nodes('web3')).toEqual([]);
  });
});

describe('express adapter', () => {
  it('a taken port is a clear error', async () => {
    const port = Number(server.address.split(':')[1]);
    await expect(startHttpServer({ ip: IP, port, handle: (r) => backend.handle(r) })).rejects.toThrow(
      `Error starting HTTP server on ${IP}:${port}: address already in use`,
    );
  });

  it('passes raw bodies of any content type and raw query flags through', async () => {
    const port = Number(server.address.split(':')[1]);
    const res = await fetch(`http://${IP}:${port}/v1/kv/bin?flags=7`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-whatever' },
      body: new Uint8Array([0, 1, 2, 255]),
    });
    expect(await res.text()).toBe('true');
    const raw = await fetch(`http://${IP}:${port}/v1/kv/bin?raw`);
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(raw.headers.get('x-consul-index')).toMatch(/^\d+$/);
    const missing = await fetch(`http://${IP}:${port}/v1/kv/nope`);
    expect(missing.status).toBe(404);
    expect(Number(missing.headers.get('x-consul-index'))).toBeGreaterThanOrEqual(1);
  });
});
