// `consul kv export|import` (Consul's JSON: key, flags, base64 value; tab indent) and
// `consul snapshot save|restore|inspect`, in process against the core handler + fake backend.
import { describe, expect, it } from 'vitest';
import { commands } from '../../cli/commands/index.ts';
import type { CliIo } from '../../cli/commands/common.ts';
import type { HttpClient } from '../../cli/http-client.ts';
import { FakeBackend, request } from '../http/fake-backend.ts';

const files = new Map<string, Uint8Array>();

async function consul(b: FakeBackend, args: string[]) {
  let out = '';
  let err = '';
  const http: HttpClient = {
    async request(_addr, method, path, body) {
      const res = await b.handle(request(method, path, body));
      return { status: res.status, headers: {}, body: typeof res.body === 'string' ? new TextEncoder().encode(res.body) : res.body };
    },
  };
  const io: CliIo = {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    env: {},
    http,
    readFile: async (p) => files.get(p) ?? Promise.reject(new Error(`open ${p}: no such file or directory`)),
    writeFile: async (p, d) => void files.set(p, d),
  };
  const code = await commands[args[0]!]!(args.slice(1), io);
  return { code, out, err };
}

describe('consul kv export / import', () => {
  it('exports Consul JSON and imports it into another cluster, flags exact', async () => {
    const a = new FakeBackend();
    await a.handle(request('PUT', '/v1/kv/app/a?flags=3304740253564472344', 'one'));
    await a.handle(request('PUT', '/v1/kv/app/b', 'two'));
    await a.handle(request('PUT', '/v1/kv/other', 'x'));
    const ex = await consul(a, ['kv', 'export', 'app/']);
    expect(ex.code).toBe(0);
    expect(ex.out).toBe(
      `[\n\t{\n\t\t"key": "app/a",\n\t\t"flags": 3304740253564472344,\n\t\t"value": "${Buffer.from('one').toString('base64')}"\n\t},\n` +
        `\t{\n\t\t"key": "app/b",\n\t\t"flags": 0,\n\t\t"value": "${Buffer.from('two').toString('base64')}"\n\t}\n]\n`,
    );
    const b = new FakeBackend();
    const im = await consul(b, ['kv', 'import', '-prefix', 'copy/', ex.out]);
    expect(im.code).toBe(0);
    expect(im.out).toBe('Imported: copy/app/a\nImported: copy/app/b\n');
    expect(b.fsm.kvGet('copy/app/a')!.Flags).toBe('3304740253564472344');
    expect(Buffer.from(b.fsm.kvGet('copy/app/b')!.Value).toString()).toBe('two');
    const bad = await consul(b, ['kv', 'import', '{"key":1}']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('Cannot unmarshal data');
    expect((await consul(new FakeBackend(), ['kv', 'export'])).out).toBe('[]\n');
  });
});

describe('consul snapshot', () => {
  it('save, inspect, restore; a damaged file is refused and nothing changes', async () => {
    const a = new FakeBackend();
    await a.handle(request('PUT', '/v1/kv/keep', 'me'));
    const save = await consul(a, ['snapshot', 'save', 'x.snap']);
    expect(save.code).toBe(0);
    expect(save.out).toMatch(/^Saved and verified snapshot to index \d+\n$/);
    const ins = await consul(a, ['snapshot', 'inspect', 'x.snap']);
    expect(ins.out).toMatch(/^ID {11}muster-\d+-\d+\nSize {9}\d+\nIndex {8}\d+\nTerm {9}0\nVersion {6}1\n$/);
    const b = new FakeBackend();
    expect((await consul(b, ['snapshot', 'restore', 'x.snap'])).out).toBe('Restored snapshot\n');
    expect(Buffer.from(b.fsm.kvGet('keep')!.Value).toString()).toBe('me');
    files.set('bad.snap', new TextEncoder().encode('garbage'));
    const bad = await consul(b, ['snapshot', 'restore', 'bad.snap']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('Error restoring snapshot: Unexpected response code: 400 (Failed to restore snapshot: snapshot archive: not a gzip file');
    expect(b.fsm.kvGet('keep')).toBeDefined();
    expect((await consul(b, ['snapshot', 'restore', 'missing.snap'])).err).toContain('Error opening snapshot file');
  });
});

describe('consul maint', () => {
  it('enables and disables node and service maintenance and lists it from the checks', async () => {
    const b = new FakeBackend();
    const on = await consul(b, ['maint', '-enable', '-reason', 'disk swap']);
    expect(on).toMatchObject({ code: 0, out: 'Node maintenance is now enabled\n' });
    expect(b.ops.at(-1)).toEqual({ op: 'nodeMaintenance', enable: true, reason: 'disk swap' });
    const missing = await consul(b, ['maint', '-enable', '-service', 'web']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('No service registered with ID "web"');
    expect((await consul(b, ['maint', '-disable'])).out).toBe('Node maintenance is now disabled\n');
    expect((await consul(b, ['maint', '-disable', '-reason', 'x'])).err).toContain('Reason may only be provided with -enable');
    const base = { Status: 'critical' as const, Output: '', ServiceName: '', ServiceTags: [], Type: '' };
    b.checks.set('_node_maintenance', { ...base, Node: 'n1', CheckID: '_node_maintenance', Name: 'Node Maintenance Mode', Notes: 'disk swap', ServiceID: '' });
    b.checks.set('_service_maintenance:web', { ...base, Node: 'n1', CheckID: '_service_maintenance:web', Name: 'Service Maintenance Mode', Notes: 'deploy', ServiceID: 'web' });
    expect((await consul(b, ['maint'])).out).toBe('Node:\n  Name:   n1\n  Reason: disk swap\n\nService:\n  ID:     web\n  Reason: deploy\n\n');
  });
});
