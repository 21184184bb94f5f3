// cli/commands/leave.ts — `consul leave`: graceful leave of the local agent, then it shuts down.
//
// Owns: Consul's messages (`Graceful leave complete`, `Error leaving: <err>`).
// Must never: wait for the agent process to exit; the agent reports when the leave is done.
import { argumentlessPut } from './common.ts';

const USAGE = `Usage: consul leave [options]

  Causes the agent to gracefully leave the Consul cluster and shutdown.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

export const run = argumentlessPut(USAGE, '/v1/agent/leave', 'leaving', 'Graceful leave complete');
