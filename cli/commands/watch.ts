// cli/commands/watch.ts — `consul watch -type=<t> [options] [handler]`: blocking queries in a
// loop; on every change run the handler with the JSON on stdin and CONSUL_INDEX in its
// environment. With no handler, print the first result and exit (as Consul does).
//
// Owns: the watch types key, keyprefix, services, nodes, service, checks, and which endpoint
// each blocks on (reference §1.10); the change detection by X-Consul-Index (reset when it
// goes backwards).
// Must never: spin: every request after the first carries ?index, so the agent holds it.
import { api, ApiError, bool, commonQuery, errorText, guard, httpAddr, parseFlags, str, UsageError, withQuery, type CliIo } from './common.ts';

const USAGE = `Usage: consul watch [options] [child...]

  Watches for changes in a given data view from Consul. If a child process
  is specified, it will be invoked with the latest results on changes. Otherwise,
  the latest values are dumped to stdout and the watch terminates.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
  -key=val                  Specifies the key to watch. Only for 'key' type.
  -passingonly=[true|false] Specifies if only hosts passing all checks are displayed.
                            Optional for 'service' type. Defaults false.
  -prefix=val               Specifies the key prefix to watch. Only for 'keyprefix' type.
  -service=val              Specifies the service to watch. Required for 'service' type,
                            optional for 'checks' type.
  -state=val                Specifies the states to watch. Optional for 'checks' type.
  -tag=val                  Specifies the service tag to filter on. Optional for 'service' type.
  -type=val                 Specifies the watch type. One of key, keyprefix,
                            services, nodes, service, or checks.
`;

const encKey = (k: string): string => k.split('/').map(encodeURIComponent).join('/');

interface Plan {
  path: string;
  /** What a 404 means for this type (a missing key is null, an empty prefix []). */
  notFound: unknown;
  /** Shape the response body the way Consul hands it to handlers. */
  shape: (body: unknown) => unknown;
}

function plan(flags: Record<string, string | boolean>): Plan {
  const type = str(flags, 'type');
  const q = commonQuery(flags);
  const id = (v: unknown): unknown => v;
  switch (type) {
    case '':
      throw new UsageError('Watch type must be specified');
    case 'key': {
      const key = str(flags, 'key');
      if (!key) throw new UsageError('Must specify a single key to watch');
      return { path: withQuery(`/v1/kv/${encKey(key)}`, q), notFound: null, shape: (b) => (Array.isArray(b) ? (b[0] ?? null) : b) };
    }
    case 'keyprefix': {
      if (flags['prefix'] === undefined) throw new UsageError('Must specify a single prefix to watch');
      return { path: withQuery(`/v1/kv/${encKey(str(flags, 'prefix'))}`, [...q, 'recurse']), notFound: [], shape: id };
    }
    case 'services':
      return { path: withQuery('/v1/catalog/services', q), notFound: {}, shape: id };
    case 'nodes':
      return { path: withQuery('/v1/catalog/nodes', q), notFound: [], shape: id };
    case 'service': {
      const svc = str(flags, 'service');
      if (!svc) throw new UsageError('Must specify a single service to watch');
      const extra = [...q];
      if (str(flags, 'tag')) extra.push(`tag=${encodeURIComponent(str(flags, 'tag'))}`);
      if (bool(flags, 'passingonly')) extra.push('passing');
      return { path: withQuery(`/v1/health/service/${encodeURIComponent(svc)}`, extra), notFound: [], shape: id };
    }
    case 'checks': {
      const svc = str(flags, 'service');
      const state = str(flags, 'state');
      if (svc && state) throw new UsageError('Cannot specify service and state');
      const path = svc ? `/v1/health/checks/${encodeURIComponent(svc)}` : `/v1/health/state/${encodeURIComponent(state || 'any')}`;
      return { path: withQuery(path, q), notFound: [], shape: id };
    }
    default:
      throw new UsageError(`Unsupported watch type: ${type} (use key, keyprefix, services, nodes, service or checks)`);
  }
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    // -max-changes is hidden: it bounds the loop for tests and scripted scenarios.
    const { flags, rest } = parseFlags(args, {
      type: 'string',
      key: 'string',
      prefix: 'string',
      service: 'string',
      tag: 'string',
      passingonly: 'bool',
      state: 'string',
      'max-changes': 'string',
    });
    const p = plan(flags);
    const handler = rest.join(' ');
    const maxChanges = Number(str(flags, 'max-changes', '0')) || Infinity;
    const addr = httpAddr(flags, io.env);
    const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let index = 0;
    let changes = 0;
    let first = true;
    while (changes < maxChanges) {
      const path = index > 0 ? withQuery(p.path, [`index=${index}`]) : p.path;
      let r;
      try {
        r = await api(io, addr, 'GET', path);
      } catch (err) {
        if (first) throw err;
        io.stderr(`Error querying Consul agent: ${errorText(err)}\n`);
        await sleep(1000);
        continue;
      }
      if (r.status !== 200 && r.status !== 404) {
        io.stderr(`Error querying Consul agent: ${new ApiError(r.status, r.text).message}\n`);
        if (first || r.status === 400) return 1;
        await sleep(1000);
        continue;
      }
      first = false;
      const newIndex = Number(r.headers['x-consul-index'] ?? 0);
      if (newIndex === index) continue;
      // An index that goes backwards means the servers' state was reset: start over.
      index = newIndex < index ? 0 : newIndex;
      const data = r.status === 404 ? p.notFound : p.shape(JSON.parse(r.text));
      const json = `${JSON.stringify(data, null, 4)}\n`;
      changes++;
      if (!handler) {
        // Consul: with no handler the watch prints the first result and stops.
        io.stdout(json);
        return 0;
      }
      if (!io.runHandler) throw new UsageError('Running a watch handler is not available here');
      const code = await io.runHandler(handler, json, { CONSUL_INDEX: String(newIndex) });
      if (code !== 0) io.stderr(`Error executing handler: exit status ${code}\n`);
    }
    return 0;
  });
}
