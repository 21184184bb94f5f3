// cli/commands/maint.ts — `consul maint [-enable|-disable] [-reason R] [-service ID]`.
//
// Owns: node and service maintenance through /v1/agent/maintenance and
// /v1/agent/service/maintenance/:id, and listing what is in maintenance from the agent's
// `_node_maintenance` / `_service_maintenance:<id>` checks (reason = the check's Notes),
// with Consul's wording.
// Must never: decide maintenance itself; the agent registers and removes the checks.
import { api, apiJson, ApiError, bool, guard, httpAddr, parseFlags, str, UsageError, type CliIo } from './common.ts';

const USAGE = `Usage: consul maint [options]

  Places a node or service into maintenance mode. During maintenance mode,
  the node or service will be excluded from all queries through the DNS
  or API interfaces, effectively taking it out of the pool of available
  nodes. This is done by registering an additional critical health check.

  When enabling maintenance mode for a node or service, you may optionally
  specify a reason string. This string will appear in the "Notes" field
  of the critical health check which is registered against the node or
  service. If no reason is provided, a default value will be used.

  If no arguments are given, the agent's maintenance status will be shown.

Options:

  -enable          Enable maintenance mode.
  -disable         Disable maintenance mode.
  -reason=<string> Text describing the maintenance reason.
  -service=<id>    Control maintenance mode for a specific service ID.
  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

const SERVICE_PREFIX = '_service_maintenance:';

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const { flags, rest } = parseFlags(args, { enable: 'bool', disable: 'bool', reason: 'string', service: 'string' });
    if (rest.length > 0) throw new UsageError(`Too many arguments (expected 0, got ${rest.length})`);
    const enable = bool(flags, 'enable');
    const disable = bool(flags, 'disable');
    const reason = str(flags, 'reason');
    const service = str(flags, 'service');
    if (enable && disable) throw new UsageError('Only one of -enable or -disable may be provided');
    if (!enable && reason) throw new UsageError('Reason may only be provided with -enable');
    if (!enable && !disable && service) throw new UsageError('Service requires either -enable or -disable');
    const addr = httpAddr(flags, io.env);

    if (!enable && !disable) {
      const checks = (await apiJson(io, addr, 'GET', '/v1/agent/checks')) as Record<string, { CheckID: string; Node: string; Notes: string }>;
      for (const id of Object.keys(checks).sort()) {
        const c = checks[id]!;
        if (c.CheckID === '_node_maintenance') io.stdout(`Node:\n  Name:   ${c.Node}\n  Reason: ${c.Notes}\n\n`);
        else if (c.CheckID.startsWith(SERVICE_PREFIX)) io.stdout(`Service:\n  ID:     ${c.CheckID.slice(SERVICE_PREFIX.length)}\n  Reason: ${c.Notes}\n\n`);
      }
      return 0;
    }
    const q = `enable=${enable}${reason ? `&reason=${encodeURIComponent(reason)}` : ''}`;
    const path = service ? `/v1/agent/service/maintenance/${encodeURIComponent(service)}?${q}` : `/v1/agent/maintenance?${q}`;
    const r = await api(io, addr, 'PUT', path);
    if (r.status !== 200) {
      io.stderr(`Error ${enable ? 'enabling' : 'disabling'} ${service ? 'service' : 'node'} maintenance: ${new ApiError(r.status, r.text).message}\n`);
      return 1;
    }
    const state = enable ? 'enabled' : 'disabled';
    io.stdout(service ? `Service maintenance is now ${state} for "${service}"\n` : `Node maintenance is now ${state}\n`);
    return 0;
  });
}
