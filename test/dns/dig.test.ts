// Real `dig` (BIND 9, Debian package dnsutils) against transports/dns-server.ts on 127.0.0.1,
// answering from a fake view holding the walkthrough's web3 on n2 and n3.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerQuery } from '../../core/dns/answer.ts';
import { DnsAnswerCache } from '../../core/dns/cache.ts';
import { makeDnsConfig } from '../../core/dns/config.ts';
import { formatDig } from '../../core/dns/dig-format.ts';
import { makeRng } from '../../core/rng.ts';
import { startDnsServer, type DnsServer } from '../../transports/dns-server.ts';
import { walkthroughView, type FakeView } from './fake-view.ts';

const run = promisify(execFile);
const IP = '127.0.0.1';

/** "9.18.49-1~deb12u3-Debian"; fails loudly (with the install command) when dig is missing. */
function digVersion(): string {
  const r = spawnSync('dig', ['-v'], { encoding: 'utf8' });
  if (r.error) {
    throw new Error(
      `dig could not run (${r.error.message}): these tests need BIND's dig. Install it with \`apt-get install dnsutils\` (CI's .ci/run does).`,
    );
  }
  // dig prints "DiG 9.x.y" on stderr (older versions) or stdout.
  const m = /DiG (\S+)/.exec(`${r.stdout}${r.stderr}`);
  if (!m) throw new Error(`\`dig -v\` printed no version (${r.stderr}); reinstall it with \`apt-get install dnsutils\``);
  return m[1]!;
}

describe('real dig against the DNS server', () => {
  let view: FakeView;
  let server: DnsServer;
  let lastReply: Uint8Array | null = null;
  let version = '';
  const logs: string[] = [];

  beforeAll(async () => {
    version = digVersion();
    view = walkthroughView();
    for (let i = 0; i < 10; i++) view.addNode(`m${i}`, `10.0.0.${i + 1}`).addService(`m${i}`, 'many', 'many', { port: 20000 + i });
    const config = makeDnsConfig();
    const rng = makeRng('dig-test');
    const cache = new DnsAnswerCache();
    server = await startDnsServer({
      ip: IP,
      port: 0,
      answer: (bytes, transport) => {
        lastReply = answerQuery(bytes, { view, config, rng, transport, datacenter: 'dc1', cache, onLog: (l) => logs.push(`[${l.level}] ${l.source}: ${l.text}`) });
        return lastReply;
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const dig = async (...words: string[]): Promise<string> => {
    const { stdout } = await run('dig', [`@${IP}`, '-p', String(server.port), ...words, '+time=3', '+tries=2'], { timeout: 20_000 });
    return stdout;
  };
  const short = async (...words: string[]): Promise<string[]> =>
    (await dig(...words, '+short')).split('\n').filter((l) => l.trim() !== '');

  it("the walkthrough's dig: both web3 instances, then only n3 once n2's check fails", async () => {
    const out = await dig('web3.service.consul', 'SRV', '+noedns');
    expect(out).toContain('status: NOERROR');
    expect(out).toContain('flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 2');
    expect(out).toContain(';; WARNING: recursion requested but not available');
    expect(out).toMatch(/web3\.service\.consul\.\t0\tIN\tSRV\t1 1 10000 n2\.node\.dc1\.consul\./);
    expect(out).toMatch(/web3\.service\.consul\.\t0\tIN\tSRV\t1 1 10000 n3\.node\.dc1\.consul\./);
    expect(out).toContain('n2.node.dc1.consul.\t0\tIN\tA\t127.0.0.1');
    expect(out).toContain('n3.node.dc1.consul.\t0\tIN\tA\t127.0.0.1');
    expect(out).toContain('MSG SIZE  rcvd: 219');

    view.setCheck('n2', 'service:web3', 'critical');
    try {
      const after = await dig('web3.service.consul', 'SRV', '+noedns');
      expect(after).toContain('ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1');
      expect(after).toContain('1 1 10000 n3.node.dc1.consul.');
      expect(after).not.toContain('n2.node.dc1.consul.');
      expect(after).toContain('MSG SIZE  rcvd: 128');
      expect(logs).toContain("[WARN] dns: node 'n2' failing health check 'service:web3: Service 'web3' check', dropping from service 'web3'");
    } finally {
      view.setCheck('n2', 'service:web3', 'passing');
    }
  });

  it("formatDig lays out the same reply exactly as this dig does", async () => {
    for (const words of [
      ['web3.service.consul', 'SRV', '+noedns'],
      ['nothere.service.consul', '+noedns'],
      ['master.web3.service.consul', 'A', '+noedns'],
      ['n2.node.consul', '+noedns'],
      ['web3.service.consul', 'SRV'],
    ]) {
      const real = await dig(...words);
      const reply = lastReply!;
      const qtype = words[1]!.startsWith('+') ? undefined : words[1];
      const options = words.slice(qtype ? 2 : 1);
      const ours = formatDig({ server: IP, port: server.port, qname: words[0]!, qtype, options: [...options, '+time=3', '+tries=2'] }, reply, {
        queryTimeMs: 0,
        whenText: 'WHEN',
        style: '9.18',
        digVersion: version,
        transport: 'udp',
      });
      const norm = (s: string): string => s.replace(/Query time: \d+ msec/, 'Query time: 0 msec').replace(/;; WHEN: .*/, ';; WHEN: WHEN');
      expect(norm(ours), words.join(' ')).toBe(norm(real));
    }
  });

  it('tag query master.web3.service.consul', async () => {
    expect((await short('master.web3.service.consul', 'SRV')).sort()).toEqual(['1 1 10000 n2.node.dc1.consul.', '1 1 10000 n3.node.dc1.consul.']);
    expect(await short('slave.web3.service.consul', 'SRV')).toEqual([]);
  });

  it('RFC 2782 queries', async () => {
    expect((await short('_web3._tcp.service.consul', 'SRV')).sort()).toEqual(['1 1 10000 n2.node.dc1.consul.', '1 1 10000 n3.node.dc1.consul.']);
    expect(await short('_web3._master.service.dc1.consul', 'SRV')).toHaveLength(2);
  });

  it('node query answers the node address (as the Go client resolves SRV targets)', async () => {
    expect(await short('n2.node.dc1.consul')).toEqual(['10.10.126.101']);
    expect(await short('N3.NODE.CONSUL', 'A')).toEqual(['10.10.126.187']);
  });

  it('dig -x answers the node name (Consul PTR), and NXDOMAIN for an address nobody has', async () => {
    expect(await short('-x', '10.10.126.101')).toEqual(['n2.node.dc1.consul.']);
    const out = await dig('-x', '192.0.2.77');
    expect(out).toContain('status: NXDOMAIN');
  });

  it('NXDOMAIN with the SOA in AUTHORITY', async () => {
    const out = await dig('nothere.service.consul', 'SRV');
    expect(out).toContain('status: NXDOMAIN');
    expect(out).toMatch(/;; AUTHORITY SECTION:\nconsul\.\t\t\t0\tIN\tSOA\tns\.consul\. postmaster\.consul\. \d+ 3600 600 86400 0\n/);
  });

  it('UDP truncation with 10 instances: 3 answers without EDNS, all 10 over TCP or with EDNS', async () => {
    const udp = await short('many.service.consul', 'SRV', '+noedns');
    expect(udp).toHaveLength(3);
    const full = await dig('many.service.consul', 'SRV', '+noedns');
    expect(full).toContain('ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 3');
    expect(full).not.toMatch(/flags:[^;]*\btc\b/);
    expect(await short('many.service.consul', 'SRV', '+noedns', '+tcp')).toHaveLength(10);
    expect(await short('many.service.consul', 'SRV', '+tcp')).toHaveLength(10);
    expect(await short('many.service.consul', 'SRV')).toHaveLength(10);
    expect(await short('many.service.consul', 'A', '+noedns')).toHaveLength(3);
  });

  it('with enable_truncate the TC bit makes dig retry over TCP and get all 10', async () => {
    const config = makeDnsConfig({ enableTruncate: true });
    const rng = makeRng('dig-tc');
    const tc = await startDnsServer({
      ip: IP,
      port: 0,
      answer: (bytes, transport) => answerQuery(bytes, { view, config, rng, transport, datacenter: 'dc1' }),
    });
    try {
      const { stdout } = await run('dig', [`@${IP}`, '-p', String(tc.port), 'many.service.consul', 'SRV', '+noedns', '+time=3', '+tries=2'], { timeout: 20_000 });
      expect(stdout).toContain(';; Truncated, retrying in TCP mode.');
      expect(stdout).toContain('ANSWER: 10, AUTHORITY: 0, ADDITIONAL: 10');
    } finally {
      await tc.close();
    }
  });
});
