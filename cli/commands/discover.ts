// cli/commands/discover.ts — `muster discover NAME`: the walkthrough's little Go discovery client.
//
// Owns: asking an agent's DNS interface for NAME's SRV records, then each target's A records,
// and printing `n2.node.dc1.consul. – 10.10.126.101:10000` per address (en dash, as the
// walkthrough's client prints), over UDP with a timeout and one retry.
// Must never: hang (every query has a deadline) or print a stack trace for bad input.
import dgram from 'node:dgram';
import { buildQuery } from '../../core/dns/query.ts';
import { nameText, RCODE_NAMES, readMessage, TYPE, type WireMessage } from '../../core/dns/wire.ts';

export interface DiscoverIo {
  stdout(s: string): void;
  stderr?(s: string): void;
}

const USAGE = `usage: muster discover NAME [--server IP:PORT] [--domain DOMAIN] [--timeout MS]

Resolves NAME.service.DOMAIN (or NAME itself when it contains a dot) to SRV records over
UDP, then each target to A records, and prints "target – ip:port" lines.
Defaults: --server 127.0.0.1:8600, --domain consul, --timeout 2000.
`;

interface Options {
  name: string;
  host: string;
  port: number;
  domain: string;
  timeoutMs: number;
}

function parseArgs(args: string[]): Options | string {
  let name: string | undefined;
  let server = '127.0.0.1:8600';
  let domain = 'consul';
  let timeoutMs = 2000;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('-') ? (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, '') : null;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : args[++i]);
    if (flag === null) {
      if (name !== undefined) return `discover takes one NAME, got '${name}' and '${a}'`;
      name = a;
    } else if (flag === 'server') {
      const v = value();
      if (!v) return '--server needs IP:PORT, e.g. --server 127.0.0.1:8600';
      server = v;
    } else if (flag === 'domain') {
      const v = value();
      if (!v) return '--domain needs a value, e.g. --domain consul';
      domain = v.replace(/\.$/, '');
    } else if (flag === 'timeout') {
      const v = Number(value());
      if (!Number.isInteger(v) || v <= 0) return '--timeout needs a positive number of milliseconds';
      timeoutMs = v;
    } else if (flag === 'h' || flag === 'help') {
      return '';
    } else {
      return `unknown option '${a}'`;
    }
  }
  if (!name) return 'discover needs a service NAME, e.g. `muster discover web3`';
  const m = /^(.+):(\d{1,5})$/.exec(server);
  const host = m ? m[1]! : server;
  const port = m ? Number(m[2]) : 8600;
  if (port < 1 || port > 65535 || !/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    return `--server '${server}' is not IPv4:PORT, e.g. 127.0.0.1:8600`;
  }
  return { name, host, port, domain, timeoutMs };
}

class DnsClient {
  private nextId = 1 + Math.floor(Math.random() * 60000);
  constructor(
    private readonly sock: dgram.Socket,
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  async query(name: string, type: 'SRV' | 'A'): Promise<WireMessage> {
    for (let attempt = 0; ; attempt++) {
      const id = this.nextId++ & 0xffff;
      try {
        return await this.once(buildQuery(name, type, { id }), id);
      } catch (e) {
        if (attempt >= 1) throw e;
      }
    }
  }

  private once(q: Uint8Array, id: number): Promise<WireMessage> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: Buffer): void => {
        let m: WireMessage;
        try {
          m = readMessage(new Uint8Array(msg));
        } catch {
          return; // not a DNS reply we can read; keep waiting
        }
        if (m.header.id !== id || !m.header.qr) return;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no answer from ${this.host}:${this.port} within ${this.timeoutMs} ms; is an agent running with DNS on that port?`));
      }, this.timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.sock.off('message', onMessage);
      };
      this.sock.on('message', onMessage);
      this.sock.send(q, this.port, this.host, (err) => {
        if (err) {
          done();
          reject(new Error(`could not send to ${this.host}:${this.port}: ${err.message}`));
        }
      });
    });
  }
}

export async function discover(args: string[], io: DiscoverIo): Promise<number> {
  const err = (s: string): void => (io.stderr ? io.stderr(s) : io.stdout(s));
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    if (opts !== '') err(`${opts}\n`);
    err(USAGE);
    return opts === '' ? 0 : 2;
  }
  const srvName = opts.name.includes('.') ? opts.name : `${opts.name}.service.${opts.domain}`;
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, () => resolve());
    });
    const client = new DnsClient(sock, opts.host, opts.port, opts.timeoutMs);
    const srv = await client.query(srvName, 'SRV');
    if (srv.header.rcode !== 0) {
      err(`dns query error: ${RCODE_NAMES[srv.header.rcode]} for ${srvName}\n`);
      return 1;
    }
    for (const answer of srv.answers) {
      if (answer.data.kind !== 'srv') continue;
      const target = nameText(answer.data.target);
      const port = answer.data.port;
      const a = await client.query(target, 'A');
      if (a.header.rcode !== 0) {
        err(`dns query error: ${RCODE_NAMES[a.header.rcode]} for ${target}\n`);
        return 1;
      }
      for (const rr of a.answers) {
        if (rr.type === TYPE.A && rr.data.kind === 'a') io.stdout(`${target} – ${rr.data.address}:${port}\n`);
      }
    }
    return 0;
  } catch (e) {
    err(`dns query error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    try {
      sock.close();
    } catch {
      // already closed
    }
  }
}
