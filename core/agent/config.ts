// core/agent/config.ts — the agent's view of its configuration (the model lives in core/config/).
//
// Owns: the names the agent has always imported (AgentConfig, UsageError, AGENT_USAGE,
// parseAgentArgs, decodeGossipKey, normalizeRecursor), now answered by core/config/.
// Must never: grow its own parsing; flags and files are parsed, merged and validated once, in
// core/config/ (loadAgentConfig reads flags and files; parseAgentArgs reads flags alone).
import { loadFlagsOnly } from '../config/load.ts';
import type { AgentConfig } from '../config/model.ts';

export type { AgentConfig } from '../config/model.ts';
export { AGENT_USAGE, UsageError } from '../config/flags.ts';
export { decodeGossipKey, normalizeRecursor } from '../config/build.ts';
export { loadAgentConfig } from '../config/load.ts';

/**
 * `consul agent` arguments (without the leading 'agent') → AgentConfig, reading no files.
 * Throws UsageError with Consul's wording for unknown flags, bad values and a missing -data-dir.
 */
export function parseAgentArgs(args: string[], hostName: string): AgentConfig {
  return loadFlagsOnly(args, hostName).config;
}
