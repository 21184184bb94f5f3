// test/transports/tls.test.ts — transports/tls.ts in-process: the CA and agent certificates it
// makes, real TLS handshakes between the option sets it builds (verify_incoming,
// verify_server_hostname as a client agent and as a server sees it), and fuzzed tls { … }
// settings, which either load or fail with one line naming the setting, never another throw.
// Must never: listen outside 127.27.0.0/16 (the security block), or leave a server open.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentTls, certNames, createCa, createCert, TlsConfigError, type KeyPairPem, type TlsFiles } from '../../transports/tls.ts';

const IP = '127.27.0.1';
const NOW = Date.now();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muster-tls-unit-'));
let ca: KeyPairPem;
let otherCa: KeyPairPem;
const files: Record<string, string> = {};

function put(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  files[name] = p;
  return p;
}

function pair(name: string, kp: KeyPairPem): void {
  put(`${name}.pem`, kp.certPem);
  put(`${name}-key.pem`, kp.keyPem);
}

beforeAll(() => {
  ca = createCa({ domain: 'consul', days: 30, nowMs: NOW });
  otherCa = createCa({ domain: 'consul', days: 30, nowMs: NOW });
  put('ca.pem', ca.certPem);
  put('ca-key.pem', ca.keyPem);
  const base = { datacenter: 'dc1', domain: 'consul', days: 7, nowMs: NOW, ca };
  pair('server', createCert({ ...base, kind: 'server', node: 's1' }));
  pair('client', createCert({ ...base, kind: 'client' }));
  pair('cli', createCert({ ...base, kind: 'cli' }));
  pair('rogue', createCert({ ...base, kind: 'client', ca: otherCa }));
  pair('other-dc', createCert({ ...base, kind: 'server', datacenter: 'dc2' }));
  put('garbage.pem', 'hello, not a certificate\n');
  put('fake-cert.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  put('fake-key.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
  fs.mkdirSync(path.join(dir, 'cadir'));
  fs.writeFileSync(path.join(dir, 'cadir', 'a.pem'), ca.certPem);
  fs.mkdirSync(path.join(dir, 'emptydir'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const rpc = (cert: string, o: Partial<TlsFiles> = {}): { https: TlsFiles; internalRpc: TlsFiles } => {
  const t: TlsFiles = {
    caFile: files['ca.pem']!,
    certFile: files[`${cert}.pem`]!,
    keyFile: files[`${cert}-key.pem`]!,
    verifyIncoming: true,
    verifyOutgoing: true,
    verifyServerHostname: true,
    ...o,
  };
  return { https: t, internalRpc: t };
};

/** One handshake: a listener with `server`'s options, a dialer with `client`'s. */
async function handshake(server: tls.TlsOptions, client: tls.ConnectionOptions): Promise<{ ok: boolean; error: string }> {
  const srv = tls.createServer(server, (s) => s.end('hi'));
  srv.on('tlsClientError', () => {});
  await new Promise<void>((r) => srv.listen(0, IP, r));
  const port = (srv.address() as { port: number }).port;
  try {
    return await new Promise((resolve) => {
      const c = tls.connect({ ...client, host: IP, port });
      const timer = setTimeout(() => {
        c.destroy();
        resolve({ ok: false, error: 'timeout' });
      }, 5000);
      c.on('data', () => {
        clearTimeout(timer);
        c.destroy();
        resolve({ ok: true, error: '' });
      });
      c.on('error', (e) => {
        clearTimeout(timer);
        resolve({ ok: false, error: e.message });
      });
      c.on('close', () => {
        clearTimeout(timer);
        resolve({ ok: false, error: 'closed' });
      });
    });
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

const opts = (server: boolean) => ({ httpsPort: 8501, server, datacenter: 'dc1', domain: 'consul.' });

describe('certificates', () => {
  it('a CA that may sign, and agent certificates with Consul names chained to it', () => {
    const caX = new X509Certificate(ca.certPem);
    expect(caX.ca).toBe(true);
    expect(caX.subject).toMatch(/CN=Consul Agent CA [0-9a-f]{8}/);
    const s = new X509Certificate(fs.readFileSync(files['server.pem']!));
    expect(s.ca).toBe(false);
    expect(s.subject).toBe('CN=server.dc1.consul');
    expect(s.subjectAltName).toBe('DNS:server.dc1.consul, DNS:s1.server.dc1.consul, DNS:localhost, IP Address:127.0.0.1');
    expect(s.verify(caX.publicKey)).toBe(true);
    expect(s.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
    expect(new Date(s.validTo).getTime()).toBeGreaterThan(NOW + 6 * 86_400_000);
    expect(certNames({ kind: 'cli', datacenter: 'dc1', domain: 'consul' }).dns).toEqual(['cli.dc1.consul', 'localhost']);
  });

  it('a CA that is not PEM is a clear error', () => {
    expect(() => createCert({ kind: 'client', datacenter: 'dc1', domain: 'consul', days: 1, nowMs: NOW, ca: { certPem: 'x', keyPem: ca.keyPem } })).toThrow(/CA certificate is not a PEM certificate/);
    expect(() => createCert({ kind: 'client', datacenter: 'dc1', domain: 'consul', days: 1, nowMs: NOW, ca: { certPem: ca.certPem, keyPem: 'x' } })).toThrow(/CA key is not a PEM RSA private key/);
  });
});

describe('handshakes with the options an agent builds', () => {
  it('verify_incoming: a client certificate from the CA gets in; none, or one from another CA, does not', async () => {
    const server = agentTls(rpc('server'), opts(true)).rpc!.server;
    expect((await handshake(server, agentTls(rpc('client'), opts(false)).rpc!.client)).ok).toBe(true);
    expect((await handshake(server, { ca: ca.certPem, servername: 'server.dc1.consul' })).ok).toBe(false);
    expect((await handshake(server, agentTls(rpc('rogue'), opts(false)).rpc!.client)).ok).toBe(false);
  });

  it('verify_server_hostname: a client agent accepts only server.dc1.consul; a server also accepts client agents', async () => {
    const clientDial = agentTls(rpc('client'), opts(false)).rpc!.client;
    const asServer = agentTls(rpc('server'), opts(true)).rpc!;
    const asClient = agentTls(rpc('client'), opts(false)).rpc!;
    expect((await handshake(asServer.server, clientDial)).ok).toBe(true);
    // A client's certificate, even from the right CA, cannot pose as a server to a client agent.
    const posing = await handshake(asClient.server, clientDial);
    expect(posing).toEqual({ ok: false, error: expect.stringContaining('verify_server_hostname') });
    // Nor can another datacenter's server.
    const dc2 = agentTls(rpc('other-dc'), opts(true)).rpc!.server;
    expect((await handshake(dc2, clientDial)).ok).toBe(false);
    // A server dialing a client agent back (replies) accepts client.dc1.consul.
    expect((await handshake(asClient.server, asServer.client)).ok).toBe(true);
  });

  it('verify_outgoing without verify_server_hostname checks the chain, not the name', async () => {
    const t = rpc('client', { verifyServerHostname: false });
    const dial = agentTls(t, opts(false)).rpc!.client;
    expect((await handshake(agentTls(rpc('client'), opts(false)).rpc!.server, dial)).ok).toBe(true);
    const foreign = { cert: fs.readFileSync(files['rogue.pem']!), key: fs.readFileSync(files['rogue-key.pem']!) };
    expect((await handshake(foreign, dial)).ok).toBe(false);
  });

  it('tls_min_version TLSv1_3 on the listener refuses a TLS 1.2-only dialer', async () => {
    const server = agentTls(rpc('server', { tlsMinVersion: 'TLSv1_3' }), opts(true)).rpc!.server;
    const dial = agentTls(rpc('client', { tlsMinVersion: 'TLSv1_2' }), opts(false)).rpc!.client;
    expect((await handshake(server, dial)).ok).toBe(true);
    expect((await handshake(server, { ...dial, maxVersion: 'TLSv1.2' })).ok).toBe(false);
  });

  it('ca_path reads every *.pem in the directory', async () => {
    const t = rpc('client', { caFile: '', caPath: path.join(dir, 'cadir') });
    const dial = agentTls(t, opts(false)).rpc!.client;
    expect((await handshake(agentTls(rpc('server'), opts(true)).rpc!.server, dial)).ok).toBe(true);
  });
});

describe('bad tls settings', () => {
  const load = (t: Partial<TlsFiles>, httpsPort = 8501) => () =>
    agentTls({ https: { ...rpc('server').https, ...t }, internalRpc: { ...rpc('server').internalRpc, ...t } }, { ...opts(true), httpsPort });

  it('each names the setting and the file', () => {
    expect(load({ certFile: '/nope/cert.pem' })).toThrow('tls.https.cert_file: cannot read /nope/cert.pem (no such file)');
    expect(load({ caFile: files['garbage.pem']! })).toThrow(`tls.https.ca_file: ${files['garbage.pem']} holds no PEM certificate`);
    expect(load({ certFile: files['fake-cert.pem']! })).toThrow(/^tls\.https\.cert_file: .* is not a valid certificate/);
    expect(load({ keyFile: files['fake-key.pem']! })).toThrow(/^tls\.https\.key_file: .* does not go with/);
    expect(load({ keyFile: files['client-key.pem']! })).toThrow(/^tls\.https\.key_file: .* does not go with .*server\.pem/);
    expect(load({ keyFile: files['server.pem']! })).toThrow(/holds no PEM private key/);
    expect(load({ keyFile: '' })).toThrow('tls.https.key_file: cert_file is set but key_file is not; set both');
    expect(load({ caFile: '', caPath: '' })).toThrow('tls.https.verify_incoming: needs ca_file or ca_path to check client certificates against');
    expect(load({ caFile: '', caPath: path.join(dir, 'emptydir') })).toThrow(/tls\.https\.ca_path: .* holds no \*\.pem or \*\.crt file/);
    expect(load({ tlsMinVersion: 'TLSv9' })).toThrow('tls.https.tls_min_version: "TLSv9" is not a TLS version (use TLSv1_2 or TLSv1_3)');
    expect(load({ tlsCipherSuites: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,RC4' })).toThrow('tls.https.tls_cipher_suites: "RC4" is not a supported cipher suite');
    expect(load({ certFile: '', keyFile: '' })).toThrow('tls.https.cert_file: a TLS listener needs cert_file and key_file');
    // No HTTPS port: the https block is not read at all, server RPC still is.
    expect(load({ certFile: '', keyFile: '' }, -1)).toThrow('tls.internal_rpc.cert_file: a TLS listener needs cert_file and key_file');
  });

  it('fuzzed settings load or fail with one line naming a tls setting, never another error', () => {
    const file = fc.constantFrom('', '/nope', dir, ...['ca.pem', 'server.pem', 'server-key.pem', 'client.pem', 'client-key.pem', 'garbage.pem', 'fake-cert.pem', 'fake-key.pem', 'rogue.pem'].map((n) => path.join(dir, n)));
    const block = fc.record({
      caFile: file,
      caPath: fc.constantFrom('', path.join(dir, 'cadir'), path.join(dir, 'emptydir'), '/nope', files['ca.pem']!),
      certFile: file,
      keyFile: file,
      tlsMinVersion: fc.constantFrom('', 'TLSv1_0', 'TLSv1_2', 'TLSv1_3', 'tls12', 'TLSv1.3'),
      tlsCipherSuites: fc.oneof(fc.constant(''), fc.constant('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'), fc.string({ maxLength: 20 })),
      verifyIncoming: fc.boolean(),
      verifyOutgoing: fc.boolean(),
      verifyServerHostname: fc.boolean(),
    });
    fc.assert(
      fc.property(block, block, fc.constantFrom(-1, 8501), fc.boolean(), (https, internalRpc, httpsPort, server) => {
        try {
          agentTls({ https, internalRpc }, { ...opts(server), httpsPort });
        } catch (e) {
          if (!(e instanceof TlsConfigError)) throw e;
          expect(e.message).toMatch(/^tls\.(https|internal_rpc)\.[a-z_]+: /);
          expect(e.message).not.toContain('\n');
        }
      }),
      { numRuns: 300 },
    );
  });
});
