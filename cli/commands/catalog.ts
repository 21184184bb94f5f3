// cli/commands/catalog.ts — `consul catalog services|nodes` (Consul 1.x layout).
//
// Owns: service lists (optionally with tags, or for one node) and the nodes table
// (`Node  ID  Address  DC`, ID cut to 8 characters unless -detailed).
// Must never: filter by health; the catalog lists every registration.
import { ApiError, apiJson, bool, columnize, commonQuery, guard, httpAddr, parseFlags, str, UsageError, withQuery, type CliIo } from './common.ts';

const USAGE = `Usage: consul catalog <subcommand> [options]

  Lists services and nodes from Consul's catalog.

Subcommands:

    nodes       Lists all nodes in the given datacenter (-detailed, -service=<name>)
    services    Lists all registered services in a datacenter (-tags, -node=<name>)

Common options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

interface NodeJson {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
}

const pairs = (m: Record<string, string> | null): string =>
  Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${m![k]}`)
    .join(', ');

async function services(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, { tags: 'bool', node: 'string' });
  if (rest.length > 0) throw new UsageError(`Too many arguments (expected 0, got ${rest.length})`);
  const addr = httpAddr(flags, io.env);
  const q = commonQuery(flags);
  let byName: Record<string, string[]>;
  if (str(flags, 'node')) {
    const node = (await apiJson(io, addr, 'GET', withQuery(`/v1/catalog/node/${encodeURIComponent(str(flags, 'node'))}`, q))) as {
      Services: Record<string, { Service: string; Tags: string[] | null }>;
    } | null;
    byName = {};
    for (const s of Object.values(node?.Services ?? {})) byName[s.Service] = [...new Set([...(byName[s.Service] ?? []), ...(s.Tags ?? [])])].sort();
  } else {
    byName = ((await apiJson(io, addr, 'GET', withQuery('/v1/catalog/services', q))) as Record<string, string[] | null>) as Record<string, string[]>;
  }
  const names = Object.keys(byName ?? {}).sort();
  if (names.length === 0) {
    io.stderr('No services match the given query - try expanding your search.\n');
    return 0;
  }
  if (bool(flags, 'tags')) io.stdout(`${columnize(names.map((n) => [n, (byName[n] ?? []).join(',')]))}\n`);
  else io.stdout(names.map((n) => `${n}\n`).join(''));
  return 0;
}

async function nodes(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, { detailed: 'bool', service: 'string' });
  if (rest.length > 0) throw new UsageError(`Too many arguments (expected 0, got ${rest.length})`);
  const addr = httpAddr(flags, io.env);
  const q = commonQuery(flags);
  let list: NodeJson[];
  if (str(flags, 'service')) {
    const rows = (await apiJson(io, addr, 'GET', withQuery(`/v1/catalog/service/${encodeURIComponent(str(flags, 'service'))}`, q))) as Array<
      NodeJson & { NodeMeta: Record<string, string> | null }
    >;
    const seen = new Set<string>();
    list = (rows ?? []).filter((r) => !seen.has(r.Node) && seen.add(r.Node)).map((r) => ({ ...r, Meta: r.NodeMeta }));
  } else {
    list = ((await apiJson(io, addr, 'GET', withQuery('/v1/catalog/nodes', q))) as NodeJson[]) ?? [];
  }
  if (list.length === 0) {
    io.stderr('No nodes match the given query - try expanding your search.\n');
    return 0;
  }
  const detailedView = bool(flags, 'detailed');
  const header = detailedView ? ['Node', 'ID', 'Address', 'DC', 'TaggedAddresses', 'Meta'] : ['Node', 'ID', 'Address', 'DC'];
  const rows = list.map((n) =>
    detailedView
      ? [n.Node, n.ID, n.Address, n.Datacenter, pairs(n.TaggedAddresses), pairs(n.Meta)]
      : [n.Node, n.ID.slice(0, 8), n.Address, n.Datacenter],
  );
  io.stdout(`${columnize([header, ...rows])}\n`);
  return 0;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const [sub, ...rest] = args;
    try {
      if (sub === 'services') return await services(rest, io);
      if (sub === 'nodes') return await nodes(rest, io);
      io.stderr(sub ? `Unknown catalog subcommand '${sub}'.\n${USAGE}` : USAGE);
      return 1;
    } catch (err) {
      if (err instanceof ApiError) {
        io.stderr(`Error listing ${sub}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  });
}
