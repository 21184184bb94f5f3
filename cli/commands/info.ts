// cli/commands/info.ts — `consul info`: the agent's Stats sections, as the walkthrough shows.
//
// Owns: the layout — sections sorted by name, each `name:` followed by `\t<key> = <value>`
// lines sorted by key.
// Must never: invent stats; whatever /v1/agent/self returns under Stats is printed.
import { ApiError, apiJson, commonQuery, guard, httpAddr, parseFlags, UsageError, withQuery, type CliIo } from './common.ts';

const USAGE = `Usage: consul info [options]

  Provides debugging information for operators.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

export function formatInfo(stats: Record<string, Record<string, unknown>>): string {
  let out = '';
  for (const section of Object.keys(stats).sort()) {
    out += `${section}:\n`;
    const kv = stats[section] ?? {};
    for (const key of Object.keys(kv).sort()) out += `\t${key} = ${String(kv[key])}\n`;
  }
  return out;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const { flags, rest } = parseFlags(args, {});
    if (rest.length > 0) throw new UsageError(`Error found unexpected args: [${rest.join(' ')}]`);
    const addr = httpAddr(flags, io.env);
    try {
      const self = (await apiJson(io, addr, 'GET', withQuery('/v1/agent/self', commonQuery(flags)))) as {
        Stats?: Record<string, Record<string, unknown>>;
      };
      io.stdout(formatInfo(self?.Stats ?? {}));
      return 0;
    } catch (err) {
      if (err instanceof ApiError) {
        io.stderr(`Error querying agent: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  });
}
