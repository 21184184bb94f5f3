// Sessions carry Consul ≥1.7's NodeChecks and ServiceChecks: accepted on create, returned by
// info/list, and a service check going critical invalidates the session.
import { describe, expect, it } from 'vitest';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { FakeBackend, bodyText, request } from '../http/fake-backend.ts';

async function j(b: FakeBackend, method: string, url: string, body?: unknown) {
  const r = await b.handle(request(method, url, body === undefined ? undefined : JSON.stringify(body)));
  const t = bodyText(r);
  return { status: r.status, text: t, body: t.startsWith('{') || t.startsWith('[') ? JSON.parse(t) : t };
}

function withServiceCheck(b: FakeBackend, status: 'passing' | 'critical' = 'passing') {
  b.mustWrite({
    op: 'register',
    nowMs: 0,
    node: { Node: 'n1', Address: '127.0.0.1', Datacenter: 'dc1' },
    service: { ID: 'pg', Service: 'postgres' },
    checks: [{ CheckID: 'service:pg', Name: 'pg alive', Status: status, ServiceID: 'pg' }],
  });
}

describe('session NodeChecks / ServiceChecks', () => {
  it('a default session shows serfHealth as Checks and NodeChecks, ServiceChecks null', async () => {
    const b = new FakeBackend();
    const { ID } = (await j(b, 'PUT', '/v1/session/create', {})).body;
    const [info] = (await j(b, 'GET', `/v1/session/info/${ID}`)).body;
    expect(info).toMatchObject({ Checks: ['serfHealth'], NodeChecks: ['serfHealth'], ServiceChecks: null });
  });

  it('NodeChecks and ServiceChecks given on create are kept and returned', async () => {
    const b = new FakeBackend();
    withServiceCheck(b);
    const r = await j(b, 'PUT', '/v1/session/create', { NodeChecks: ['serfHealth'], ServiceChecks: [{ ID: 'service:pg', Namespace: '' }] });
    expect(r.status).toBe(200);
    const [info] = (await j(b, 'GET', `/v1/session/info/${r.body.ID}`)).body;
    expect(info).toMatchObject({
      Checks: ['serfHealth', 'service:pg'],
      NodeChecks: ['serfHealth'],
      ServiceChecks: [{ ID: 'service:pg', Namespace: '' }],
    });
    const none = await j(b, 'PUT', '/v1/session/create', { NodeChecks: [], ServiceChecks: [{ ID: 'service:pg' }] });
    const [s2] = (await j(b, 'GET', `/v1/session/info/${none.body.ID}`)).body;
    expect(s2).toMatchObject({ NodeChecks: [], ServiceChecks: [{ ID: 'service:pg', Namespace: '' }] });
  });

  it('a missing or critical service check refuses the session; going critical invalidates it', async () => {
    const b = new FakeBackend();
    const missing = await j(b, 'PUT', '/v1/session/create', { ServiceChecks: [{ ID: 'service:nope' }] });
    expect(missing.status).toBe(500);
    expect(missing.text).toBe("Missing check 'service:nope' registration");
    withServiceCheck(b);
    const { ID } = (await j(b, 'PUT', '/v1/session/create', { ServiceChecks: [{ ID: 'service:pg' }] })).body;
    expect(b.fsm.sessionGet(ID)).toBeDefined();
    b.mustWrite({ op: 'updateCheckStatus', nowMs: 0, node: 'n1', checkId: 'service:pg', status: 'critical' });
    expect(b.fsm.sessionGet(ID)).toBeUndefined();
    const crit = await j(b, 'PUT', '/v1/session/create', { ServiceChecks: [{ ID: 'service:pg' }] });
    expect(crit.text).toBe("Check 'service:pg' is in critical state");
    expect((await j(b, 'PUT', '/v1/session/create', { ServiceChecks: 'x' })).status).toBe(400);
  });

  it('service checks survive a snapshot', () => {
    const fsm = new CatalogFSM();
    fsm.apply(1, { op: 'register', nowMs: 0, node: { Node: 'n', Address: 'a' }, service: { Service: 's' }, checks: [{ CheckID: 'c', Name: 'c', Status: 'passing', ServiceID: 's' }] });
    fsm.apply(2, { op: 'sessionCreate', nowMs: 0, id: 'x', node: 'n', checks: [], serviceChecks: ['c'] });
    expect(CatalogFSM.restore(fsm.snapshot()).sessionGet('x')).toMatchObject({ Checks: [], ServiceChecks: ['c'] });
  });
});
