// test/e2e/tls-real.test.ts — TLS with real processes: `consul tls ca/cert create`, the HTTPS API
// with client certificates checked by real curl, the CLI over HTTPS (-ca-file -client-cert
// -client-key), server RPC over TLS between a server and a client with a good certificate,
// and a client whose certificate comes from another CA refused at the server's RPC port.
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.27.1 (the security block 127.27.0.0/16).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MUSTER, ProcessGroup, assertPortsFree, freshTempDir, http, runCli, runCommand, waitFor, type Proc } from './harness.ts';

const NET = '127.27.1';
const S1 = `${NET}.1`;
const C2 = `${NET}.2`;
const C3 = `${NET}.3`;
const tmp = freshTempDir('tls');
const pki = path.join(tmp, 'pki');
const rogue = path.join(tmp, 'rogue');
const group = new ProcessGroup(tmp);
const ctx = () => `agent logs in ${tmp}\n${group.tails(15)}`;
let s1: Proc;
let c3: Proc;

async function tlsCli(dir: string, args: string): Promise<string> {
  const r = await runCommand('sh', ['-c', `cd '${dir}' && '${process.execPath}' '${MUSTER}' tls ${args}`], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`tls ${args}: ${r.stderr}`);
  return r.stdout;
}

function tlsHcl(dir: string, cert: string, opts: { https?: boolean } = {}): string {
  return [
    opts.https ? 'ports { https = 8501 }' : '',
    'tls {',
    `  defaults { ca_file = "${dir}/consul-agent-ca.pem"  cert_file = "${dir}/${cert}.pem"  key_file = "${dir}/${cert}-key.pem"  verify_incoming = true  verify_outgoing = true }`,
    '  internal_rpc { verify_server_hostname = true }',
    '}',
  ].join('\n');
}

const curl = (args: string[]) => runCommand('curl', ['-sS', '--max-time', '10', ...args], { timeoutMs: 15_000 });

beforeAll(async () => {
  for (const ip of [S1, C2, C3]) await assertPortsFree(ip, [8300, 8301, 8302, 8500, 8501, 8600]);
  fs.mkdirSync(pki);
  fs.mkdirSync(rogue);
  expect(await tlsCli(pki, 'ca create')).toBe('==> Saved consul-agent-ca.pem\n==> Saved consul-agent-ca-key.pem\n');
  const server = await tlsCli(pki, `cert create -server -dc dc1 -additional-ipaddress ${S1}`);
  expect(server).toContain('==> WARNING: Server Certificates grants authority to become a');
  expect(server).toContain('==> Saved dc1-server-consul-0.pem\n==> Saved dc1-server-consul-0-key.pem\n');
  await tlsCli(pki, `cert create -client -additional-ipaddress ${C2}`);
  await tlsCli(pki, 'cert create -cli');
  await tlsCli(rogue, 'ca create');
  await tlsCli(rogue, `cert create -client -additional-ipaddress ${C3}`);
  // The rogue client trusts the real CA (it knows whom it wants to reach), but its own cert is not from it.
  fs.copyFileSync(path.join(pki, 'consul-agent-ca.pem'), path.join(rogue, 'real-ca.pem'));
  const rogueHcl = tlsHcl(rogue, 'dc1-client-consul-0').replace(`${rogue}/consul-agent-ca.pem`, `${rogue}/real-ca.pem`);

  s1 = group.agent('s1', ['-server', '-bootstrap', '-data-dir', path.join(tmp, 's1'), '-node=s1', `-bind=${S1}`, `-client=${S1}`, '-hcl', tlsHcl(pki, 'dc1-server-consul-0', { https: true })]);
  group.agent('c2', ['-data-dir', path.join(tmp, 'c2'), '-node=c2', `-bind=${C2}`, `-client=${C2}`, `-retry-join=${S1}`, '-retry-interval=1s', '-hcl', tlsHcl(pki, 'dc1-client-consul-0')]);
  c3 = group.agent('c3', ['-data-dir', path.join(tmp, 'c3'), '-node=c3', `-bind=${C3}`, `-client=${C3}`, `-retry-join=${S1}`, '-retry-interval=1s', '-hcl', rogueHcl]);
  for (const ip of [S1, C2, C3]) {
    await waitFor(`${ip} answers HTTP`, async () => (await http(`http://${ip}:8500/v1/agent/self`)).status === 200, { timeoutMs: 20_000, context: ctx });
  }
}, 90_000);

afterAll(async () => {
  await group.killAll();
});

describe('TLS, real processes', () => {
  it('tls cert create names the certificate server.dc1.consul and chains it to the CA', async () => {
    const x = new (await import('node:crypto')).X509Certificate(fs.readFileSync(path.join(pki, 'dc1-server-consul-0.pem')));
    expect(x.subjectAltName).toBe(`DNS:server.dc1.consul, DNS:localhost, IP Address:127.0.0.1, IP Address:${S1}`);
    const ca = new (await import('node:crypto')).X509Certificate(fs.readFileSync(path.join(pki, 'consul-agent-ca.pem')));
    expect(x.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    // A second cert of the same kind takes the next number; nothing is overwritten.
    expect(await tlsCli(pki, 'cert create -client')).toContain('Saved dc1-client-consul-1.pem');
  });

  it('curl over HTTPS: --cacert and a client certificate get in; no client cert or no CA does not', async () => {
    const base = `https://${S1}:8501/v1/status/leader`;
    const good = await curl(['--cacert', `${pki}/consul-agent-ca.pem`, '--cert', `${pki}/dc1-cli-consul-0.pem`, '--key', `${pki}/dc1-cli-consul-0-key.pem`, base]);
    expect([good.code, good.stdout]).toEqual([0, `"${S1}:8300"`]);
    const noCa = await curl(['--cert', `${pki}/dc1-cli-consul-0.pem`, '--key', `${pki}/dc1-cli-consul-0-key.pem`, base]);
    expect(noCa.code).toBe(60);
    const noClientCert = await curl(['--cacert', `${pki}/consul-agent-ca.pem`, base]);
    expect(noClientCert.code).not.toBe(0);
    const rogueCert = await curl(['--cacert', `${pki}/consul-agent-ca.pem`, '--cert', `${rogue}/dc1-client-consul-0.pem`, '--key', `${rogue}/dc1-client-consul-0-key.pem`, base]);
    expect(rogueCert.code).not.toBe(0);
  }, 30_000);

  it('the CLI talks HTTPS with -ca-file -client-cert -client-key, and from CONSUL_HTTP_SSL + CONSUL_CACERT', async () => {
    const flags = [`-http-addr=https://${S1}:8501`, `-ca-file=${pki}/consul-agent-ca.pem`, `-client-cert=${pki}/dc1-cli-consul-0.pem`, `-client-key=${pki}/dc1-cli-consul-0-key.pem`];
    const r = await runCli(['members', ...flags]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Node\s+Address/);
    expect(r.stdout).toContain(`s1    ${S1}:8301`);
    const env = `CONSUL_HTTP_ADDR=${S1}:8501 CONSUL_HTTP_SSL=true CONSUL_CACERT=${pki}/consul-agent-ca.pem CONSUL_CLIENT_CERT=${pki}/dc1-cli-consul-0.pem CONSUL_CLIENT_KEY=${pki}/dc1-cli-consul-0-key.pem`;
    const viaEnv = await runCommand('sh', ['-c', `${env} '${process.execPath}' '${MUSTER}' kv put tls/ok yes`], { timeoutMs: 20_000 });
    expect([viaEnv.code, viaEnv.stdout]).toEqual([0, 'Success! Data written to: tls/ok\n']);
    const noCa = await runCli(['members', `-http-addr=https://${S1}:8501`]);
    expect(noCa.code).toBe(1);
  }, 30_000);

  it('server RPC over TLS: the client with a good certificate reaches the servers', async () => {
    await waitFor(
      'c2 reads the catalog through s1',
      async () => {
        const r = await http(`http://${C2}:8500/v1/catalog/nodes`);
        return r.status === 200 && (JSON.parse(r.text) as { Node: string }[]).some((n) => n.Node === 'c2');
      },
      { timeoutMs: 30_000, context: ctx },
    );
  }, 40_000);

  it('a client whose certificate is from another CA cannot reach server RPC', async () => {
    // It joined over gossip (no TLS there) but its RPCs are refused at the TLS handshake.
    await waitFor('s1 sees c3 in gossip', async () => (await http(`http://${S1}:8500/v1/agent/members`)).text.includes('"c3"'), { timeoutMs: 20_000, context: ctx });
    const r = await http(`http://${C3}:8500/v1/catalog/nodes`, { timeoutMs: 20_000 });
    expect(r.status).toBe(500);
    await waitFor('s1 logs the refused TLS connection', async () => s1.output.some((l) => l.includes(`refused TLS connection from ${C3}`)), { timeoutMs: 10_000, context: ctx });
    // Its own registration never made it (the leader lists the gossip member, without services).
    expect(c3.output.some((l) => l.includes('failed to sync remote state'))).toBe(true);
  }, 60_000);
});
