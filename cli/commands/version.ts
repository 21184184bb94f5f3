// cli/commands/version.ts — `consul version`: Muster's version and the Consul it speaks.
//
// Owns: the two-line version text in Consul 0.5's layout (version, then protocol line).
// Must never: contact an agent (Consul's version command is local).
import type { CliIo } from './common.ts';

export const MUSTER_VERSION = '0.1.0';
export const CONSUL_COMPAT_VERSION = '0.5.2';
export const PROTOCOL_CUR = 2;
export const PROTOCOL_MIN = 1;

export async function run(_args: string[], io: CliIo): Promise<number> {
  io.stdout(`Muster v${MUSTER_VERSION} (Consul ${CONSUL_COMPAT_VERSION} compatible)\n`);
  io.stdout(`Consul Protocol: ${PROTOCOL_CUR} (Understands back to: ${PROTOCOL_MIN})\n`);
  return 0;
}
