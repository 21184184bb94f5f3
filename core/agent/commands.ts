// core/agent/commands.ts — catalog commands the agent proposes, built in one place.
//
// Owns: turning agent facts (a gossip member's health, a local service or check) into
// catalog commands (core/catalog/commands.ts).
// Must never: apply anything; the leader proposes these through Raft.
import type { Command, CheckSpec, RegisterCommand } from '../catalog/commands.ts';
import type { HealthStatus } from '../catalog/types.ts';
import { SERF_HEALTH_CHECK_ID, SERF_HEALTH_CHECK_NAME } from '../catalog/types.ts';
import type { LocalCheck, LocalService } from './local-state.ts';

/**
 * Register a node, optionally with its serfHealth status, a service and one check.
 * serfStatus null ⇒ leave serfHealth alone (the agent's anti-entropy never writes it).
 */
export function registerNodeCommand(
  node: string,
  address: string,
  datacenter: string,
  serfStatus: HealthStatus | null,
  serfOutput: string,
  service?: LocalService,
  check?: LocalCheck,
  nowMs = 0,
): Command {
  const cmd: RegisterCommand = { op: 'register', nowMs, node: { Node: node, Address: address, Datacenter: datacenter } };
  const checks: CheckSpec[] = [];
  if (serfStatus) {
    checks.push({ CheckID: SERF_HEALTH_CHECK_ID, Name: SERF_HEALTH_CHECK_NAME, Status: serfStatus, Output: serfOutput, Type: 'serf' });
  }
  if (service) {
    cmd.service = {
      ID: service.id,
      Service: service.name,
      Tags: service.tags,
      Address: service.address,
      Port: service.port,
      Meta: service.meta,
      EnableTagOverride: service.enableTagOverride,
    };
  }
  if (check) {
    checks.push({
      CheckID: check.id,
      Name: check.name,
      Status: check.status,
      Notes: check.notes,
      Output: check.output,
      ServiceID: check.serviceId,
      Type: check.type,
    });
  }
  if (checks.length > 0) cmd.checks = checks;
  return cmd;
}

export function deregisterNodeCommand(node: string, nowMs = 0): Command {
  return { op: 'deregister', nowMs, node };
}

export function deregisterServiceCommand(node: string, serviceId: string, nowMs = 0): Command {
  return { op: 'deregister', nowMs, node, serviceId };
}

export function deregisterCheckCommand(node: string, checkId: string, nowMs = 0): Command {
  return { op: 'deregister', nowMs, node, checkId };
}
