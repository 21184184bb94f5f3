// cli/commands/members.ts — `consul members [-detailed] [-status=<regexp>] [-wan]`.
//
// Owns: the members table exactly as the walkthrough prints it
// (`Node  Address  Status  Type  Build  Protocol  DC`), the -detailed tag view, the status
// filter and exit code 2 when nothing matches.
// Must never: reorder members; the agent's order is shown (Consul 0.5 did not sort).
import { ApiError, apiJson, bool, columnize, commonQuery, guard, httpAddr, parseFlags, str, UsageError, withQuery, type CliIo } from './common.ts';

const USAGE = `Usage: consul members [options]

  Outputs the members of a running Consul agent.

Options:

  -detailed                 Provides detailed information about nodes
  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
  -status=<regexp>          If provided, output is filtered to only nodes matching
                            the regular expression for status
  -wan                      If the agent is in server mode, this can be used to return
                            the other peers in the WAN pool
`;

interface MemberJson {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string> | null;
  Status: number;
}

const STATUS_NAMES = ['none', 'alive', 'leaving', 'left', 'failed'];

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? 'unknown';
}

export function memberRow(m: MemberJson): string[] {
  const tags = m.Tags ?? {};
  const addr = `${m.Addr}:${m.Port}`;
  const status = statusName(m.Status);
  const role = tags['role'];
  const type = role === 'consul' ? 'server' : role === 'node' ? 'client' : 'unknown';
  if (type === 'unknown') return [m.Name, addr, status, type, '', '', ''];
  const build = tags['build'] !== undefined ? tags['build'].split(':')[0]! : '< 0.3';
  return [m.Name, addr, status, type, build, tags['vsn'] ?? '', tags['dc'] ?? ''];
}

export function detailedRow(m: MemberJson): string[] {
  const tags = m.Tags ?? {};
  const pairs = Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`)
    .join(',');
  return [m.Name, `${m.Addr}:${m.Port}`, statusName(m.Status), pairs];
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const { flags, rest } = parseFlags(args, { detailed: 'bool', status: 'string', wan: 'bool', segment: 'string' });
    if (rest.length > 0) throw new UsageError(`Error found unexpected args: [${rest.join(' ')}]`);
    let statusRe: RegExp;
    try {
      statusRe = new RegExp(str(flags, 'status', '.*'));
    } catch (err) {
      io.stderr(`Failed to compile status regexp: ${(err as Error).message}\n`);
      return 1;
    }
    const addr = httpAddr(flags, io.env);
    let members: MemberJson[];
    try {
      const q = commonQuery(flags);
      if (bool(flags, 'wan')) q.push('wan=1');
      members = ((await apiJson(io, addr, 'GET', withQuery('/v1/agent/members', q))) as MemberJson[] | null) ?? [];
    } catch (err) {
      if (err instanceof ApiError) {
        io.stderr(`Error retrieving members: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const shown = members.filter((m) => statusRe.test(statusName(m.Status)));
    if (shown.length === 0) return 2;
    const rows = bool(flags, 'detailed')
      ? [['Node', 'Address', 'Status', 'Tags'], ...shown.map(detailedRow)]
      : [['Node', 'Address', 'Status', 'Type', 'Build', 'Protocol', 'DC'], ...shown.map(memberRow)];
    io.stdout(`${columnize(rows)}\n`);
    return 0;
  });
}
