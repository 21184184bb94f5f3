// `consul acl bootstrap | policy | token | role` in process, through the real CLI code, the core
// HTTP handler and the fake backend's server-side ACL gate: Consul's pretty output, -format=json,
// repeatable link flags, -rules @file, update/merge, delete messages, and errors as Consul words them.
import { describe, expect, it } from 'vitest';
import { commands } from '../../cli/commands/index.ts';
import type { CliIo } from '../../cli/commands/common.ts';
import type { HttpClient } from '../../cli/http-client.ts';
import { aclConfig } from '../../core/acl/config.ts';
import { FakeBackend, request } from '../http/fake-backend.ts';

const files = new Map<string, string>();
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const STAMP = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? \\+0000 UTC';

function backend(): FakeBackend {
  return new FakeBackend({ acl: aclConfig({ enabled: true, defaultPolicy: 'deny' }) });
}

async function consul(b: FakeBackend, line: string[]) {
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
    readFile: async (p) => (files.has(p) ? new TextEncoder().encode(files.get(p)) : Promise.reject(new Error(`open ${p}: no such file or directory`))),
  };
  const code = await commands['acl']!(line, io);
  return { code, out, err };
}

async function must(b: FakeBackend, line: string[]): Promise<string> {
  const r = await consul(b, line);
  if (r.code !== 0) throw new Error(`consul acl ${line.join(' ')} → ${r.code}: ${r.err}`);
  return r.out;
}

const field = (out: string, name: string): string => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)![1]!;

describe('consul acl', () => {
  it('bootstrap prints the management token as Consul does; a second bootstrap fails', async () => {
    const b = backend();
    const out = await must(b, ['bootstrap']);
    expect(out).toMatch(
      new RegExp(
        `^AccessorID:       ${UUID}\nSecretID:         ${UUID}\nDescription:      Bootstrap Token \\(Global Management\\)\nLocal:            false\nCreate Time:      ${STAMP}\nPolicies:\n   00000000-0000-0000-0000-000000000001 - global-management\n$`,
      ),
    );
    const again = await consul(b, ['bootstrap']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^Failed ACL bootstrapping: Unexpected response code: 403 \(Permission denied: ACL bootstrap no longer allowed/);
  });

  it('policy create/read/list/update/delete, rules from @file, and a bad rule refused with Consul\'s wording', async () => {
    const b = backend();
    const root = field(await must(b, ['bootstrap']), 'SecretID');
    const T = `-token=${root}`;
    files.set('kv.hcl', 'key_prefix "app/" {\n  policy = "write"\n}\n');
    const created = await must(b, ['policy', 'create', T, '-name', 'app-kv', '-description', 'app keys', '-rules', '@kv.hcl']);
    expect(created).toMatch(new RegExp(`^ID:           ${UUID}\nName:         app-kv\nDescription:  app keys\nDatacenters:  \nRules:\nkey_prefix "app/" \\{\n  policy = "write"\n\\}\n\n$`));
    const id = field(created, 'ID');
    expect(await must(b, ['policy', 'read', T, '-name', 'app-kv'])).toBe(created);
    const list = await must(b, ['policy', 'list', T]);
    expect(list).toContain(`app-kv:\n   ID:           ${id}\n   Description:  app keys\n   Datacenters:  \n`);
    expect(list).toContain('global-management:\n   ID:           00000000-0000-0000-0000-000000000001\n');
    const updated = await must(b, ['policy', 'update', T, '-id', id, '-description', 'changed']);
    expect(field(updated, 'Description')).toBe('changed');
    expect(updated).toContain('key_prefix "app/"');
    const json = JSON.parse(await must(b, ['policy', 'read', T, '-id', id, '-format=json'])) as { Name: string; Rules: string };
    expect(json.Name).toBe('app-kv');
    const bad = await consul(b, ['policy', 'create', T, '-name', 'bad', '-rules', 'key_prefix "" { policy = "sudo" }']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^Failed to create new policy: Unexpected response code: 400 \(Invalid Policy: .*sudo/);
    expect((await consul(b, ['policy', 'create', T, '-name', 'x', '-rules', '@missing.hcl'])).err).toContain('Failed to read rules from missing.hcl');
    expect((await consul(b, ['policy', 'create', T])).err).toContain("Missing required '-name' flag");
    expect(await must(b, ['policy', 'delete', T, '-id', id])).toBe(`Policy "${id}" deleted successfully\n`);
    expect((await consul(b, ['policy', 'read', T, '-id', id])).err).toMatch(/^Error reading policy ".*": Unexpected response code: 403 \(ACL not found\)/);
  });

  it('token create with repeated -policy-name and identities; the token works and is denied elsewhere; self, clone, update, delete', async () => {
    const b = backend();
    const root = field(await must(b, ['bootstrap']), 'SecretID');
    const T = `-token=${root}`;
    await must(b, ['policy', 'create', T, '-name', 'kv-app', '-rules', 'key_prefix "app/" { policy = "write" }']);
    await must(b, ['policy', 'create', T, '-name', 'kv-ro', '-rules', 'key_prefix "" { policy = "read" }']);
    const tok = await must(b, ['token', 'create', T, '-description', 'app', '-policy-name', 'kv-app', '-policy-name=kv-ro', '-service-identity', 'web:dc1,dc2', '-node-identity', 'n3:dc1']);
    expect(tok).toMatch(new RegExp(`\nPolicies:\n   ${UUID} - kv-app\n   ${UUID} - kv-ro\nService Identities:\n   web \\(Datacenters: dc1, dc2\\)\nNode Identities:\n   n3 \\(Datacenter: dc1\\)\n$`));
    const secret = field(tok, 'SecretID');
    const accessor = field(tok, 'AccessorID');
    // The token does what its policies say, through the same gate, and nothing else.
    expect((await b.handle(request('PUT', `/v1/kv/app/x?token=${secret}`, 'v'))).status).toBe(200);
    expect((await b.handle(request('PUT', `/v1/kv/other?token=${secret}`, 'v'))).status).toBe(403);
    const self = await must(b, ['token', 'read', '-self', `-token=${secret}`]);
    expect(field(self, 'AccessorID')).toBe(accessor);
    // A non-management token may not list tokens.
    const denied = await consul(b, ['token', 'list', `-token=${secret}`]);
    expect(denied.err).toMatch(/^Failed to retrieve the token list: Unexpected response code: 403 \(Permission denied/);
    const listed = await must(b, ['token', 'list', T]);
    expect(listed.split('\n\n').length).toBe(3); // bootstrap, anonymous, app
    const clone = await must(b, ['token', 'clone', T, '-id', accessor, '-description', 'copy']);
    expect(field(clone, 'Description')).toBe('copy');
    expect(field(clone, 'AccessorID')).not.toBe(accessor);
    expect(clone).toContain(' - kv-app\n');
    // update: -policy-name replaces, -merge-policies adds.
    const replaced = await must(b, ['token', 'update', T, '-id', accessor, '-policy-name', 'kv-ro']);
    expect(replaced).not.toContain('kv-app');
    expect(field(replaced, 'SecretID')).toBe(secret);
    const merged = await must(b, ['token', 'update', T, '-id', accessor, '-merge-policies', '-policy-name', 'kv-app']);
    expect(merged).toMatch(/ - kv-ro\n.* - kv-app\n/s);
    expect(await must(b, ['token', 'delete', T, '-id', accessor])).toBe(`Token "${accessor}" deleted successfully\n`);
    expect((await b.handle(request('PUT', `/v1/kv/app/x?token=${secret}`, 'v'))).status).toBe(403);
    const json = JSON.parse(await must(b, ['token', 'read', T, '-id', field(clone, 'AccessorID'), '-format', 'json'])) as { Description: string };
    expect(json.Description).toBe('copy');
    expect((await consul(b, ['token', 'read', T])).err).toContain('Must specify the -id parameter or the -self flag');
    expect((await consul(b, ['token', 'create', T, '-policy-name', 'nope'])).err).toMatch(/^Failed to create new token: Unexpected response code: 400/);
  });

  it('roles: create needs a policy or identity, read by name, update merges unless -no-merge, tokens link them', async () => {
    const b = backend();
    const root = field(await must(b, ['bootstrap']), 'SecretID');
    const T = `-token=${root}`;
    await must(b, ['policy', 'create', T, '-name', 'p1', '-rules', 'node_prefix "" { policy = "read" }']);
    await must(b, ['policy', 'create', T, '-name', 'p2', '-rules', 'service_prefix "" { policy = "read" }']);
    expect((await consul(b, ['role', 'create', T, '-name', 'empty'])).err).toContain('Cannot create a role without specifying');
    const r = await must(b, ['role', 'create', T, '-name', 'ops', '-description', 'operators', '-policy-name', 'p1']);
    expect(r).toMatch(new RegExp(`^ID:           ${UUID}\nName:         ops\nDescription:  operators\nPolicies:\n   ${UUID} - p1\n$`));
    const id = field(r, 'ID');
    const merged = await must(b, ['role', 'update', T, '-id', id, '-policy-name', 'p2']);
    expect(merged).toMatch(/ - p1\n.* - p2\n$/s);
    const replaced = await must(b, ['role', 'update', T, '-id', id, '-no-merge', '-policy-name', 'p2']);
    expect(replaced).not.toContain('p1');
    expect(await must(b, ['role', 'read', T, '-name', 'ops'])).toBe(replaced);
    expect(await must(b, ['role', 'list', T])).toMatch(new RegExp(`^ops:\n   ID:           ${id}\n   Description:  operators\n   Policies:\n      ${UUID} - p2\n$`));
    const tok = await must(b, ['token', 'create', T, '-role-name', 'ops']);
    expect(tok).toMatch(new RegExp(`\nRoles:\n   ${id} - ops\n$`));
    expect(await must(b, ['role', 'delete', T, '-name', 'ops'])).toBe(`Role "${id}" deleted successfully\n`);
  });

  it('without ACLs the agent says so; unknown subcommands print usage', async () => {
    const off = new FakeBackend();
    const r = await consul(off, ['bootstrap']);
    expect(r.err).toBe('Failed ACL bootstrapping: Unexpected response code: 401 (ACL support disabled)\n');
    const u = await consul(off, ['frobnicate']);
    expect(u.code).toBe(1);
    expect(u.err).toContain('Usage: consul acl <subcommand>');
    expect((await consul(off, ['policy', 'list', '-format=yaml'])).err).toContain('Invalid format: "yaml" (use pretty or json)');
  });
});
