// `muster discover` (cli/commands/discover.ts) against the real DNS server: the walkthrough's Go client output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { discover } from '../../cli/commands/discover.ts';
import { answerQuery } from '../../core/dns/answer.ts';
import { makeDnsConfig } from '../../core/dns/config.ts';
import { makeRng } from '../../core/rng.ts';
import { startDnsServer, type DnsServer } from '../../transports/dns-server.ts';
import { walkthroughView } from './fake-view.ts';

describe('muster discover', () => {
  let server: DnsServer;
  beforeAll(async () => {
    const view = walkthroughView();
    const config = makeDnsConfig();
    const rng = makeRng('discover');
    server = await startDnsServer({
      ip: '127.0.0.1',
      port: 0,
      answer: (b, transport) => answerQuery(b, { view, config, rng, transport, datacenter: 'dc1' }),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const capture = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await discover(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
    return { code, out, err };
  };

  it('prints target – node address:port per instance, as the walkthrough client does', async () => {
    const { code, out } = await capture(['web3', '--server', `127.0.0.1:${server.port}`]);
    expect(code).toBe(0);
    expect(out.split('\n').filter(Boolean).sort()).toEqual([
      'n2.node.dc1.consul. – 10.10.126.101:10000',
      'n3.node.dc1.consul. – 10.10.126.187:10000',
    ]);
  });

  it('fails with the rcode for an unknown service', async () => {
    const { code, err } = await capture(['nothere', `--server=127.0.0.1:${server.port}`]);
    expect(code).toBe(1);
    expect(err).toContain('dns query error: NXDOMAIN for nothere.service.consul');
  });

  it('times out cleanly when nothing answers', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port; // bound but silent
    try {
      const { code, err } = await capture(['web3', '--server', `127.0.0.1:${port}`, '--timeout', '150']);
      expect(code).toBe(1);
      expect(err).toMatch(/no answer from 127\.0\.0\.1:\d+ within 150 ms/);
    } finally {
      sock.close();
    }
  });

  it('rejects bad arguments with usage', async () => {
    const r = await capture(['web3', '--server', 'nonsense:99999']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not IPv4:PORT');
    expect((await capture([])).err).toContain('usage: muster discover');
  });
});
