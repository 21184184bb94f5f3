// cli/commands/reload.ts — `consul reload`: the agent re-reads its config dir (services, checks).
//
// Owns: Consul's messages (`Configuration reload triggered`, `Error reloading: <err>`).
import { argumentlessPut } from './common.ts';

const USAGE = `Usage: consul reload [options]

  Causes the agent to reload configurations. This can be used instead
  of sending the SIGHUP signal to the agent.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

export const run = argumentlessPut(USAGE, '/v1/agent/reload', 'reloading', 'Configuration reload triggered');
