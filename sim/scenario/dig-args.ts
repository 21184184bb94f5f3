// sim/scenario/dig-args.ts — what a scenario's `dig …` line asks for.
//
// Owns: reading dig's command line (`@server`, `-p port`, name, type, `+tcp`, `+short`) the
// way dig does, with a clear error for anything the scenario dig does not do.
// Must never: send a query; sim-dig.ts (virtual) and the real backend (real dig) do.
import { digQueryType } from '../../core/dns/dig-format.ts';

export interface DigRequest {
  server: string;
  port: number;
  qname: string;
  /** As typed; undefined ⇒ A. */
  qtype?: string;
  tcp: boolean;
  short: boolean;
  /** `+…` words, echoed on dig's banner line. */
  options: string[];
}

export function parseDigArgs(args: string[]): DigRequest | string {
  let server = '127.0.0.1';
  let port = 53;
  let qname: string | undefined;
  let qtype: string | undefined;
  let tcp = false;
  let short = false;
  const options: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('@')) server = a.slice(1);
    else if (a === '-p') {
      const p = Number(args[++i]);
      if (!Number.isInteger(p) || p < 1 || p > 65535) return `dig: -p needs a port 1-65535, got '${args[i] ?? ''}'`;
      port = p;
    } else if (a.startsWith('+')) {
      const o = a.toLowerCase();
      if (o === '+tcp' || o === '+vc') tcp = true;
      else if (o === '+notcp' || o === '+novc') tcp = false;
      else if (o === '+short') short = true;
      else return `dig: option '${a}' is not supported by scenario dig (supported: @SERVER, -p PORT, NAME, TYPE, +tcp, +short)`;
      options.push(a);
    } else if (a.startsWith('-')) {
      return `dig: option '${a}' is not supported by scenario dig (supported: @SERVER, -p PORT, NAME, TYPE, +tcp, +short)`;
    } else if (qname === undefined) qname = a;
    else if (qtype === undefined && digQueryType(a) !== undefined) qtype = a;
    else if (a.toUpperCase() === 'IN') continue;
    else return `dig: unexpected '${a}' (one NAME and one TYPE, e.g. dig @127.0.0.1 -p 8600 web3.service.consul SRV)`;
  }
  if (qname === undefined) return 'dig: which name? e.g. dig @127.0.0.1 -p 8600 web3.service.consul SRV';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(server)) return `dig: @${server} is not an IPv4 address`;
  return { server, port, qname, qtype, tcp, short, options };
}
