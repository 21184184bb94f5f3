// transports/tls.ts — TLS for real mode: making a CA and agent certificates, and turning the
// agent's tls { … } settings into Node TLS options for the HTTPS API and server RPC.
//
// Owns: `consul tls ca create` / `consul tls cert create` key material (RSA 2048 keys from
// node:crypto, X.509 built and signed by node-forge; SANs as Consul's: server.DC.DOMAIN,
// client.DC.DOMAIN, localhost, 127.0.0.1), reading ca/cert/key files with errors that name the
// file and field, and the server/client option sets (verify_incoming ⇒ client certificates
// required; verify_server_hostname ⇒ the peer must present server.DC.DOMAIN).
// Must never: hand-write ASN.1 or X.509, fall back to an unverified connection when
// verification was asked for, or print key material.
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkServerIdentity, createSecureContext, type ConnectionOptions, type TlsOptions } from 'node:tls';
import forge from 'node-forge';

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;

function newKeys(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.PrivateKey; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey), privateKey: forge.pki.privateKeyFromPem(privateKey), keyPem: privateKey };
}

function serial(): string {
  // Positive (high bit clear), 16 bytes, as RFC 5280 asks.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number, nowMs: number): void {
  // A minute of slack for clocks that are a little behind.
  cert.validity.notBefore = new Date(nowMs - 60_000);
  cert.validity.notAfter = new Date(nowMs + days * DAY_MS);
}

export interface CaOptions {
  domain: string;
  days: number;
  /** Clock reading for the validity period (the caller's clock). */
  nowMs: number;
  commonName?: string;
}

/** A self-signed CA like Consul's "Consul Agent CA": may sign certificates, nothing else. */
export function createCa(o: CaOptions): KeyPairPem {
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, o.days, o.nowMs);
  const subject = [
    { name: 'commonName', value: o.commonName ?? `Consul Agent CA ${serial().slice(0, 8)}` },
    { name: 'organizationName', value: 'HashiCorp Inc.' },
    { name: 'countryName', value: 'US' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'subjectAltName', altNames: [{ type: 2, value: o.domain }] },
  ]);
  cert.sign(keys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

export type CertKind = 'server' | 'client' | 'cli';

export interface CertOptions {
  kind: CertKind;
  datacenter: string;
  domain: string;
  days: number;
  nowMs: number;
  ca: KeyPairPem;
  /** -node: servers also get NODE.server.DC.DOMAIN. */
  node?: string;
  additionalDnsNames?: string[];
  additionalIps?: string[];
}

/** The names Consul puts in an agent certificate of this kind. */
export function certNames(o: Pick<CertOptions, 'kind' | 'datacenter' | 'domain' | 'node' | 'additionalDnsNames' | 'additionalIps'>): { cn: string; dns: string[]; ips: string[] } {
  const base = `${o.kind}.${o.datacenter}.${o.domain}`;
  const dns = o.kind === 'cli' ? [base, 'localhost'] : [base, ...(o.kind === 'server' && o.node ? [`${o.node}.${base}`] : []), 'localhost'];
  return { cn: base, dns: [...dns, ...(o.additionalDnsNames ?? [])], ips: ['127.0.0.1', ...(o.additionalIps ?? [])] };
}

export function createCert(o: CertOptions): KeyPairPem {
  let caCert: forge.pki.Certificate;
  let caKey: forge.pki.PrivateKey;
  try {
    caCert = forge.pki.certificateFromPem(o.ca.certPem);
  } catch (e) {
    throw new Error(`the CA certificate is not a PEM certificate (${(e as Error).message})`);
  }
  try {
    caKey = forge.pki.privateKeyFromPem(o.ca.keyPem);
  } catch (e) {
    throw new Error(`the CA key is not a PEM RSA private key (${(e as Error).message})`);
  }
  const keys = newKeys();
  const names = certNames(o);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, o.days, o.nowMs);
  cert.setSubject([{ name: 'commonName', value: names.cn }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: o.kind !== 'cli', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'subjectAltName', altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

// ------------------------------------------------------------------ settings

/** One interface's settings, as the config model's tls { defaults / https / internal_rpc } give
 *  them (core/config/model.ts TlsProtocolSettings; the optional fields default to unset). */
export interface TlsFiles {
  caFile: string;
  caPath?: string;
  certFile: string;
  keyFile: string;
  tlsMinVersion?: string;
  tlsCipherSuites?: string;
  verifyIncoming: boolean;
  verifyOutgoing: boolean;
  verifyServerHostname: boolean;
}

/** Consul's tls_min_version words → Node's. */
const MIN_VERSION: Record<string, TlsOptions['minVersion']> = { TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };

/** Consul's (Go's) names for the TLS 1.2 suites it accepts in tls_cipher_suites → OpenSSL's. */
const CIPHER_SUITES: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
};

/** tls_min_version and tls_cipher_suites as Node options; unknown words name the setting. */
function protocolOptions(t: TlsFiles, where: string): Pick<TlsOptions, 'minVersion' | 'ciphers'> {
  const v = t.tlsMinVersion || 'TLSv1_2';
  const minVersion = MIN_VERSION[v];
  if (!minVersion) throw new TlsConfigError(`${where}.tls_min_version: ${JSON.stringify(v)} is not a TLS version (use TLSv1_2 or TLSv1_3)`);
  if (!t.tlsCipherSuites) return { minVersion };
  const ciphers: string[] = [];
  for (const raw of t.tlsCipherSuites.split(',')) {
    const name = raw.trim();
    const c = CIPHER_SUITES[name];
    if (!c) throw new TlsConfigError(`${where}.tls_cipher_suites: ${JSON.stringify(name)} is not a supported cipher suite (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`);
    ciphers.push(c);
  }
  // TLS 1.3 suites are fixed by the protocol; the list narrows 1.2 only, as in Consul.
  return { minVersion, ciphers: ciphers.join(':') };
}

export class TlsConfigError extends Error {}

function readPem(path: string, field: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TlsConfigError(`${field}: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message})`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) {
    throw new TlsConfigError(`${field}: ${path} holds no PEM ${kind === 'CERTIFICATE' ? 'certificate' : 'private key'}`);
  }
  if (kind === 'CERTIFICATE') {
    try {
      new X509Certificate(text);
    } catch (e) {
      throw new TlsConfigError(`${field}: ${path} is not a valid certificate (${(e as Error).message})`);
    }
  }
  return text;
}

/** The key material of one interface; errors name the setting (tls.https.cert_file …). */
export function loadTlsMaterial(t: TlsFiles, where: string): { ca?: string[]; cert?: string; key?: string } {
  const out: { ca?: string[]; cert?: string; key?: string } = {};
  const cas: string[] = [];
  if (t.caFile) cas.push(readPem(t.caFile, `${where}.ca_file`, 'CERTIFICATE'));
  if (t.caPath) {
    let names: string[];
    try {
      names = readdirSync(t.caPath).filter((n) => /\.(pem|crt)$/i.test(n)).sort();
    } catch (e) {
      throw new TlsConfigError(`${where}.ca_path: cannot read directory ${t.caPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (names.length === 0) throw new TlsConfigError(`${where}.ca_path: ${t.caPath} holds no *.pem or *.crt file`);
    for (const n of names) cas.push(readPem(join(t.caPath, n), `${where}.ca_path`, 'CERTIFICATE'));
  }
  if (cas.length) out.ca = cas;
  if (t.certFile || t.keyFile) {
    if (!t.certFile) throw new TlsConfigError(`${where}.cert_file: key_file is set but cert_file is not; set both`);
    if (!t.keyFile) throw new TlsConfigError(`${where}.key_file: cert_file is set but key_file is not; set both`);
    out.cert = readPem(t.certFile, `${where}.cert_file`, 'CERTIFICATE');
    out.key = readPem(t.keyFile, `${where}.key_file`, 'PRIVATE KEY');
    try {
      // Here rather than at the first connection: a key that is not the certificate's, or not a
      // key at all, is a start-up error naming the setting.
      createSecureContext({ cert: out.cert, key: out.key });
    } catch (e) {
      throw new TlsConfigError(`${where}.key_file: ${t.keyFile} does not go with ${t.certFile} (${(e as Error).message})`);
    }
  }
  if (t.verifyIncoming && !out.ca) throw new TlsConfigError(`${where}.verify_incoming: needs ca_file or ca_path to check client certificates against`);
  if ((t.verifyOutgoing || t.verifyServerHostname) && !out.ca) throw new TlsConfigError(`${where}.${t.verifyOutgoing ? 'verify_outgoing' : 'verify_server_hostname'}: needs ca_file or ca_path to check servers against`);
  return out;
}

/** A listener's options: its certificate; verify_incoming ⇒ only clients signed by the CA. */
export function serverOptions(t: TlsFiles, where: string): TlsOptions {
  const m = loadTlsMaterial(t, where);
  if (!m.cert) throw new TlsConfigError(`${where}.cert_file: a TLS listener needs cert_file and key_file`);
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca ? { ca: m.ca } : {}),
    requestCert: t.verifyIncoming,
    rejectUnauthorized: t.verifyIncoming,
    ...protocolOptions(t, where),
  };
}

/** A dialer's options toward servers: present our certificate; verify the server's chain, and
 *  with verify_server_hostname that it is server.DC.DOMAIN. */
export function clientOptions(t: TlsFiles, where: string, serverName: string): ConnectionOptions {
  const m = loadTlsMaterial(t, where);
  const verify = t.verifyOutgoing || t.verifyServerHostname;
  return {
    ...(m.cert ? { cert: m.cert, key: m.key } : {}),
    ...(m.ca ? { ca: m.ca } : {}),
    rejectUnauthorized: verify,
    servername: serverName,
    ...protocolOptions(t, where),
    // Without verify_server_hostname the chain is checked, the name is not (Consul's behaviour).
    ...(verify && !t.verifyServerHostname ? { checkServerIdentity: () => undefined } : {}),
  };
}

/** What a real agent needs from its tls { … } settings: HTTPS listener options and TLS on the
 *  server RPC port, or null for each that is not configured. */
export interface AgentTls {
  https: TlsOptions | null;
  rpc: { server: TlsOptions; client: ConnectionOptions } | null;
}

/**
 * HTTPS when ports.https > 0 (needs tls.https cert and key). Server RPC is TLS when
 * tls.internal_rpc names a CA: every agent of such a cluster speaks TLS on that port.
 * With verify_server_hostname a client agent accepts only server.DC.DOMAIN; a server, which
 * also dials client agents back with their replies, accepts client.DC.DOMAIN too.
 */
export function agentTls(t: { https: TlsFiles; internalRpc: TlsFiles }, o: { httpsPort: number; server: boolean; datacenter: string; domain: string }): AgentTls {
  const https = o.httpsPort > 0 ? serverOptions(t.https, 'tls.https') : null;
  if (!t.internalRpc.caFile && !t.internalRpc.caPath) return { https, rpc: null };
  const domain = o.domain.replace(/\.$/, '');
  const serverName = `server.${o.datacenter}.${domain}`;
  const client = clientOptions(t.internalRpc, 'tls.internal_rpc', serverName);
  if (t.internalRpc.verifyServerHostname) {
    const accepted = o.server ? [serverName, `client.${o.datacenter}.${domain}`] : [serverName];
    client.checkServerIdentity = (_host, cert) => {
      for (const name of accepted) if (checkServerIdentity(name, cert) === undefined) return undefined;
      return new Error(`certificate is not valid for ${accepted.join(' or ')} (verify_server_hostname)`);
    };
  }
  // Every agent listens on the RPC port (replies come back on it), so every agent needs a cert.
  return { https, rpc: { server: serverOptions(t.internalRpc, 'tls.internal_rpc'), client } };
}
