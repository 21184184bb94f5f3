// The virtual dig's output (core/dns/dig-format.ts) against the walkthrough's transcripts.
// Real dig 9.18 is compared byte for byte in dig.test.ts.
import { describe, expect, it } from 'vitest';
import { answerQuery } from '../../core/dns/answer.ts';
import { formatDig } from '../../core/dns/dig-format.ts';
import { buildQuery } from '../../core/dns/query.ts';
import { makeRng } from '../../core/rng.ts';
import { walkthroughView } from './fake-view.ts';
import { ctxFor } from './helpers.ts';

// From the walkthrough (the blog turned dig's tabs into runs of spaces).
const FIRST = `
; <<>> DiG 9.9.5-3-Ubuntu <<>> @127.0.0.1 -p 8600 web3.service.consul SRV
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 6713
;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 2
;; WARNING: recursion requested but not available

;; QUESTION SECTION:
;web3.service.consul.        IN    SRV

;; ANSWER SECTION:
web3.service.consul.    0    IN    SRV    1 1 10000 n2.node.dc1.consul.
web3.service.consul.    0    IN    SRV    1 1 10000 n3.node.dc1.consul.

;; ADDITIONAL SECTION:
n2.node.dc1.consul.    0    IN    A    127.0.0.1
n3.node.dc1.consul.    0    IN    A    127.0.0.1

;; Query time: 2 msec
;; SERVER: 127.0.0.1#8600(127.0.0.1)
;; WHEN: Mon Jul 06 12:12:53 CST 2015
;; MSG SIZE  rcvd: 219
`;

const SECOND = `
; <<>> DiG 9.9.5-3-Ubuntu <<>> @127.0.0.1 -p 8600 web3.service.consul SRV
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 25136
;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1
;; WARNING: recursion requested but not available

;; QUESTION SECTION:
;web3.service.consul.        IN    SRV

;; ANSWER SECTION:
web3.service.consul.    0    IN    SRV    1 1 10000 n3.node.dc1.consul.

;; ADDITIONAL SECTION:
n3.node.dc1.consul.    0    IN    A    127.0.0.1

;; Query time: 3 msec
;; SERVER: 127.0.0.1#8600(127.0.0.1)
;; WHEN: Mon Jul 06 12:16:39 CST 2015
;; MSG SIZE  rcvd: 128
`;

const squash = (s: string): string => s.replace(/[ \t]+/g, ' ').trim();
const args = { server: '127.0.0.1', port: 8600, qname: 'web3.service.consul', qtype: 'SRV' };

describe('formatDig', () => {
  it('reproduces the walkthrough first dig (both instances)', () => {
    // The answer order is shuffled; find the first seed that yields the transcript's order.
    let text = '';
    for (let i = 0; i < 50; i++) {
      const reply = answerQuery(buildQuery('web3.service.consul', 'SRV', { id: 6713 }), { ...ctxFor(walkthroughView()), rng: makeRng(`order-${i}`) })!;
      text = formatDig(args, reply, { queryTimeMs: 2, whenText: 'Mon Jul 06 12:12:53 CST 2015' });
      if (text.indexOf('SRV\t1 1 10000 n2') < text.indexOf('SRV\t1 1 10000 n3')) break;
    }
    expect(squash(text)).toBe(squash(FIRST));
    expect(text.startsWith('\n; <<>> DiG')).toBe(true);
    expect(text.endsWith('rcvd: 219\n\n')).toBe(true);
    // dig's tab columns: owner, TTL at 24, class 32, type 40, rdata 48.
    expect(text).toContain(';web3.service.consul.\t\tIN\tSRV\n');
    expect(text).toContain('web3.service.consul.\t0\tIN\tSRV\t1 1 10000 n2.node.dc1.consul.\n');
    expect(text).toContain('n3.node.dc1.consul.\t0\tIN\tA\t127.0.0.1\n');
  });

  it('reproduces the walkthrough second dig (n2 failing)', () => {
    const view = walkthroughView().setCheck('n2', 'service:web3', 'critical');
    const reply = answerQuery(buildQuery('web3.service.consul', 'SRV', { id: 25136 }), ctxFor(view))!;
    const text = formatDig(args, reply, { queryTimeMs: 3, whenText: 'Mon Jul 06 12:16:39 CST 2015' });
    expect(squash(text)).toBe(squash(SECOND));
  });

  it('prints NXDOMAIN with the AUTHORITY section and long owners with one space', () => {
    const reply = answerQuery(buildQuery('nothere.service.consul', 'A', { id: 1 }), ctxFor(walkthroughView()))!;
    const text = formatDig({ server: '127.0.0.1', port: 8600, qname: 'nothere.service.consul' }, reply, { queryTimeMs: 0, whenText: 'x' });
    expect(text).toContain('status: NXDOMAIN');
    expect(text).toContain(';; AUTHORITY SECTION:\nconsul.\t\t\t0\tIN\tSOA\tns.consul. postmaster.consul. 1436155973 3600 600 86400 0\n');
    expect(text).toContain('<<>> @127.0.0.1 -p 8600 nothere.service.consul\n');
    const tag = answerQuery(buildQuery('master.web3.service.consul', 'A', { id: 2 }), ctxFor(walkthroughView()))!;
    expect(formatDig({ server: '127.0.0.1', port: 53, qname: 'master.web3.service.consul' }, tag, { queryTimeMs: 0, whenText: 'x' })).toContain(
      'master.web3.service.consul. 0\tIN\tA\t127.0.0.1\n',
    );
  });

  it('prints the OPT pseudosection and the 9.18 transport suffix', () => {
    const reply = answerQuery(buildQuery('web3.service.consul', 'SRV', { id: 3, ednsPayloadBytes: 1232 }), ctxFor(walkthroughView()))!;
    const text = formatDig(args, reply, { queryTimeMs: 1, whenText: 'x', style: '9.18', transport: 'tcp' });
    expect(text).toContain('\n\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 4096\n;; QUESTION SECTION:\n');
    expect(text).toContain('ADDITIONAL: 3');
    expect(text).toContain(';; SERVER: 127.0.0.1#8600(127.0.0.1) (TCP)\n');
  });

  it('reports a reply it cannot parse instead of throwing', () => {
    const text = formatDig(args, new Uint8Array([1, 2, 3]), { queryTimeMs: 0, whenText: 'x' });
    expect(text).toContain(';; Got bad packet:');
  });
});
