// cli/commands/tls.ts — `consul tls ca create` and `consul tls cert create`.
//
// Owns: Consul's flags (-domain -days -common-name; -server -client -cli -dc -node -ca -key
// -additional-dnsname -additional-ipaddress), its file names (consul-agent-ca.pem,
// DC-server-DOMAIN-N.pem …, never overwriting an existing file) and its messages.
// Must never: contact an agent, or overwrite key material.
import { createCa, createCert, type CertKind } from '../../transports/tls.ts';
import { errorText, guard, parseFlags, UsageError, type CliIo } from './common.ts';

const USAGE = `Usage: consul tls <subcommand> <subcommand> [options]

  Helpers for setting up TLS for Consul agents.

    Create a CA:       consul tls ca create [-domain consul] [-days 1825]
    Create a cert:     consul tls cert create -server|-client|-cli [-dc dc1] [-domain consul]
                       [-ca consul-agent-ca.pem] [-key consul-agent-ca-key.pem] [-days 365]
                       [-node NAME] [-additional-dnsname NAME] [-additional-ipaddress IP]
`;

async function exists(io: CliIo, path: string): Promise<boolean> {
  if (!io.readFile) return false;
  try {
    await io.readFile(path);
    return true;
  } catch {
    return false;
  }
}

async function save(io: CliIo, path: string, text: string): Promise<void> {
  await io.writeFile!(path, new TextEncoder().encode(text));
  io.stdout(`==> Saved ${path}\n`);
}

function days(v: string, dflt: number): number {
  if (v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`-days must be a positive whole number of days, got "${v}"`);
  return n;
}

/** Repeatable flags (-additional-dnsname a -additional-dnsname b) are pulled out first. */
function takeRepeated(args: string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = new RegExp(`^--?${name}(?:=(.*))?$`).exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const v = m[1] ?? args[++i];
    if (v === undefined) throw new UsageError(`flag needs an argument: -${name}`);
    values.push(v);
  }
  return { values, rest };
}

async function caCreate(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, { domain: 'string', days: 'string', 'common-name': 'string', 'name-constraint': 'bool' });
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const domain = String(flags['domain'] ?? 'consul');
  const cert = `${domain}-agent-ca.pem`;
  const key = `${domain}-agent-ca-key.pem`;
  for (const f of [cert, key]) {
    if (await exists(io, f)) {
      io.stderr(`==> ${f} already exists.\n`);
      return 1;
    }
  }
  const ca = createCa({ domain, days: days(String(flags['days'] ?? ''), 1825), nowMs: Date.now(), commonName: (flags['common-name'] as string) || undefined });
  await save(io, cert, ca.certPem);
  await save(io, key, ca.keyPem);
  return 0;
}

async function certCreate(args: string[], io: CliIo): Promise<number> {
  const dns = takeRepeated(args, 'additional-dnsname');
  const ips = takeRepeated(dns.rest, 'additional-ipaddress');
  const { flags, rest } = parseFlags(ips.rest, {
    server: 'bool',
    client: 'bool',
    cli: 'bool',
    dc: 'string',
    domain: 'string',
    days: 'string',
    ca: 'string',
    key: 'string',
    node: 'string',
  });
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const kinds = (['server', 'client', 'cli'] as const).filter((k) => flags[k] === true);
  if (kinds.length !== 1) {
    io.stderr('==> Please provide either -server, -client, or -cli\n');
    return 1;
  }
  const kind: CertKind = kinds[0]!;
  if (flags['node'] && kind !== 'server') {
    io.stderr('==> -node requires -server\n');
    return 1;
  }
  const domain = String(flags['domain'] ?? 'consul');
  const dc = String(flags['dc'] ?? 'dc1');
  const caFile = String(flags['ca'] ?? `${domain}-agent-ca.pem`);
  const keyFile = String(flags['key'] ?? `${domain}-agent-ca-key.pem`);
  if (!io.readFile) throw new UsageError('Reading files is not available here');
  let caPem: string;
  let caKeyPem: string;
  try {
    caPem = new TextDecoder().decode(await io.readFile(caFile));
  } catch {
    io.stderr(`==> CA certificate ${caFile} not found: run 'consul tls ca create' first, or pass -ca\n`);
    return 1;
  }
  try {
    caKeyPem = new TextDecoder().decode(await io.readFile(keyFile));
  } catch {
    io.stderr(`==> CA key ${keyFile} not found: pass -key\n`);
    return 1;
  }
  // The first free index, as Consul numbers them.
  let n = 0;
  const prefix = `${dc}-${kind}-${domain}`;
  while (await exists(io, `${prefix}-${n}.pem`)) n++;
  if (kind === 'server') {
    io.stdout(
      '==> WARNING: Server Certificates grants authority to become a\n    server and access all state in the cluster including root keys\n    and all ACL tokens. Do not distribute them to production hosts\n    that are not server nodes. Store them as securely as CA keys.\n',
    );
  }
  io.stdout(`==> Using ${caFile} and ${keyFile}\n`);
  let pair;
  try {
    pair = createCert({
      kind,
      datacenter: dc,
      domain,
      days: days(String(flags['days'] ?? ''), 365),
      nowMs: Date.now(),
      ca: { certPem: caPem, keyPem: caKeyPem },
      ...(flags['node'] ? { node: String(flags['node']) } : {}),
      additionalDnsNames: dns.values,
      additionalIps: ips.values,
    });
  } catch (e) {
    io.stderr(`==> ${errorText(e)}\n`);
    return 1;
  }
  await save(io, `${prefix}-${n}.pem`, pair.certPem);
  await save(io, `${prefix}-${n}-key.pem`, pair.keyPem);
  return 0;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const [a, b, ...rest] = args;
    if (!io.writeFile) throw new UsageError('Writing files is not available here');
    if (a === 'ca' && b === 'create') return caCreate(rest, io);
    if (a === 'cert' && b === 'create') return certCreate(rest, io);
    io.stderr(USAGE);
    return 1;
  });
}
