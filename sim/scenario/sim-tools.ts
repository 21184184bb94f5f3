// sim/scenario/sim-tools.ts — the small programs a scenario runs in the simulator besides the
// agent and the CLI: dig, the discovery client, curl, and the walkthrough's web3 service.
//
// Owns: their output text (dig's layout via core/dns/dig-format.ts; the discovery client's
// `target – ip:port` lines; curl's body or its error line; the web service's one line per
// request) given a way to send DNS and HTTP from a host.
// Must never: touch the world directly; sim-backend.ts hands in the transport functions.
import { buildQuery } from '../../core/dns/query.ts';
import { formatDig } from '../../core/dns/dig-format.ts';
import { nameText, readMessage, RCODE_NAMES, TYPE, type WireMessage, type WireRecord } from '../../core/dns/wire.ts';
import type { DigRequest } from './dig-args.ts';

export type DnsSend = (server: string, query: Uint8Array, transport: 'udp' | 'tcp') => Promise<Uint8Array | null>;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** dig's `%a %b %d %H:%M:%S %Z %Y`, in UTC. */
export function digWhen(wallMs: number): string {
  const d = new Date(wallMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

function shortRdata(r: WireRecord): string {
  const d = r.data;
  switch (d.kind) {
    case 'a':
    case 'aaaa':
      return d.address;
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${nameText(d.target)}`;
    case 'name':
      return nameText(d.target);
    default:
      return `\\# ${r.rdata.length}`;
  }
}

export async function runDig(req: DigRequest, id: number, send: DnsSend, clock: { nowMs(): number; wallMs(): number }): Promise<string> {
  const query = buildQuery(req.qname, req.qtype ?? 'A', { id });
  const t0 = clock.nowMs();
  const answer = await send(`${req.server}:${req.port}`, query, req.tcp ? 'tcp' : 'udp');
  if (answer === null) {
    if (req.short) return ';; connection timed out; no servers could be reached\n';
    const cmd = [`@${req.server}`, ...(req.port !== 53 ? ['-p', String(req.port)] : []), req.qname, ...(req.qtype ? [req.qtype] : []), ...req.options].join(' ');
    return `\n; <<>> DiG 9.9.5-3-Ubuntu <<>> ${cmd}\n; (1 server found)\n;; global options: +cmd\n;; connection timed out; no servers could be reached\n`;
  }
  if (req.short) {
    let m: WireMessage;
    try {
      m = readMessage(answer);
    } catch {
      return ';; Got bad packet\n';
    }
    return m.answers.map((r) => `${shortRdata(r)}\n`).join('');
  }
  return formatDig(
    { server: req.server, port: req.port, qname: req.qname, qtype: req.qtype, options: req.options },
    answer,
    { queryTimeMs: clock.nowMs() - t0, whenText: digWhen(clock.wallMs()), transport: req.tcp ? 'tcp' : 'udp' },
  );
}

/** The walkthrough's servicediscovery.go: SRV for the service, then A for each target. */
export async function runDiscover(args: string[], nextId: () => number, send: DnsSend): Promise<string> {
  let name: string | undefined;
  let server = '127.0.0.1:8600';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--server' || a === '-server') server = args[++i] ?? '';
    else if (a.startsWith('--server=')) server = a.slice('--server='.length);
    else if (a.startsWith('-')) return `unknown option '${a}'\nusage: muster discover NAME [--server IP:PORT]\n`;
    else if (name === undefined) name = a;
    else return `discover takes one NAME, got '${name}' and '${a}'\n`;
  }
  if (!name) return 'discover needs a service NAME, e.g. `muster discover web3`\n';
  if (!/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(server)) return `--server '${server}' is not IPv4:PORT, e.g. 127.0.0.1:8600\n`;
  const srvName = name.includes('.') ? name : `${name}.service.consul`;
  const ask = async (qname: string, type: 'SRV' | 'A'): Promise<WireMessage | string> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const bytes = await send(server, buildQuery(qname, type, { id: nextId() }), 'udp');
      if (bytes === null) continue;
      try {
        return readMessage(bytes);
      } catch {
        return `dns query error: unreadable reply for ${qname}\n`;
      }
    }
    return `dns query error: no answer from ${server} within 2000 ms; is an agent running with DNS on that port?\n`;
  };
  let out = '';
  const srv = await ask(srvName, 'SRV');
  if (typeof srv === 'string') return srv;
  if (srv.header.rcode !== 0) return `dns query error: ${RCODE_NAMES[srv.header.rcode]} for ${srvName}\n`;
  for (const ans of srv.answers) {
    if (ans.data.kind !== 'srv') continue;
    const target = nameText(ans.data.target);
    const a = await ask(target, 'A');
    if (typeof a === 'string') return out + a;
    if (a.header.rcode !== 0) return `${out}dns query error: ${RCODE_NAMES[a.header.rcode]} for ${target}\n`;
    for (const rr of a.answers) if (rr.type === TYPE.A && rr.data.kind === 'a') out += `${target} – ${rr.data.address}:${ans.data.port}\n`;
  }
  return out;
}

export interface CurlRequest {
  url: string;
  method: string;
  body?: string;
}

export function parseCurlArgs(args: string[]): CurlRequest | string {
  let url: string | undefined;
  let method: string | undefined;
  let body: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-s' || a === '-S' || a === '-sS' || a === '--silent' || a === '--show-error') continue;
    if (a === '-X' || a === '--request') method = args[++i];
    else if (a === '-d' || a === '--data' || a === '--data-binary') body = args[++i];
    else if (a.startsWith('-')) return `curl: option ${a} is not supported by scenario curl (supported: -s, -X METHOD, -d DATA, URL)\n`;
    else if (url === undefined) url = a;
    else return `curl: one URL only, got '${url}' and '${a}'\n`;
  }
  if (!url) return 'curl: no URL specified!\n';
  if (!/^https?:\/\//.test(url)) url = `http://${url}`;
  return { url, method: method ?? (body !== undefined ? 'POST' : 'GET'), body };
}

export type CurlOutcome = { ok: true; body: string } | { ok: false; reason: 'refused' | 'timeout' | 'reset' | 'nohost' };

/** curl's output: the body (a newline added if it lacks one), or curl's error line. */
export function curlText(url: string, r: CurlOutcome): string {
  if (r.ok) return r.body === '' || r.body.endsWith('\n') ? r.body : `${r.body}\n`;
  let host = url;
  let port = '80';
  try {
    const u = new URL(url);
    host = u.hostname;
    port = u.port || '80';
  } catch {
    // keep the raw text
  }
  switch (r.reason) {
    case 'refused':
      return `curl: (7) Failed to connect to ${host} port ${port}: Connection refused\n`;
    case 'timeout':
      return `curl: (28) Failed to connect to ${host} port ${port}: Connection timed out\n`;
    case 'nohost':
      return `curl: (6) Could not resolve host: ${host}\n`;
    case 'reset':
      return `curl: (56) Recv failure: Connection reset by peer\n`;
  }
}

/** The walkthrough's web3.go: `/health` prints "health check!", `/` prints the greeting. */
export function webReply(path: string, greeting: string): { line: string; status: number; body: string } {
  const p = path.split('?')[0]!;
  if (p === '/health') return { line: 'health check!', status: 200, body: '' };
  return { line: greeting, status: 200, body: greeting };
}
