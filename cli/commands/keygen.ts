// cli/commands/keygen.ts — `consul keygen`: a fresh gossip encryption key for -encrypt.
//
// Owns: printing base64 of 16 bytes from the OS's secure random source, as Consul 0.5 does.
// Must never: contact an agent or take arguments (Consul's keygen is local and flagless).
import { randomBytes } from 'node:crypto';
import type { CliIo } from './common.ts';

export const GOSSIP_KEY_BYTES = 16;

export async function run(args: string[], io: CliIo): Promise<number> {
  if (args.length > 0) {
    io.stderr(`keygen takes no arguments, got '${args.join(' ')}'\nUsage: consul keygen\n\n  Generates a new encryption key that can be used to configure the\n  agent to encrypt traffic. The output of this command is already\n  in the proper format that the agent expects.\n`);
    return 1;
  }
  io.stdout(`${randomBytes(GOSSIP_KEY_BYTES).toString('base64')}\n`);
  return 0;
}
