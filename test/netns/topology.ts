// test/netns/topology.ts — a throw-away LAN of network namespaces for partition tests.
//
// Owns: creating N "host" namespaces, each with one veth into a bridge that lives in its own
// "switch" namespace, addresses in 198.18.0.0/24 (RFC 2544's benchmarking range: never a real
// network), cutting/restoring one host's switch port, and deleting everything it made.
// Must never: touch the root namespace's interfaces or routes, or delete a namespace it did
// not create (every name carries this process's prefix).
import { runCommand } from '../e2e/harness.ts';

export interface NetnsHost {
  name: string;
  ns: string;
  ip: string;
  /** The host's port on the bridge, inside the switch namespace. */
  switchPort: string;
}

async function ip(args: string[]): Promise<string> {
  const r = await runCommand('ip', args, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Why this machine cannot run the namespace tests, or null when it can. */
export async function netnsUnavailable(): Promise<string | null> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return `creating network namespaces needs root (uid is ${process.getuid()}); run this test as root — CI does`;
  }
  try {
    await ip(['netns', 'list']);
  } catch (err) {
    return `\`ip netns\` does not work here (install iproute2): ${(err as Error).message}`;
  }
  return null;
}

export class NetnsLan {
  readonly prefix: string;
  readonly switchNs: string;
  readonly hosts: NetnsHost[] = [];
  private readonly created: string[] = [];

  constructor(names: string[]) {
    // Short and unique per test process: interface names are limited to 15 bytes.
    this.prefix = `mst${process.pid % 100000}`;
    this.switchNs = `${this.prefix}sw`;
    names.forEach((name, i) =>
      this.hosts.push({ name, ns: `${this.prefix}${name}`, ip: `198.18.0.${i + 1}`, switchPort: `${this.prefix}p${i + 1}` }),
    );
  }

  async create(): Promise<void> {
    const existing = await ip(['netns', 'list']);
    for (const ns of [this.switchNs, ...this.hosts.map((h) => h.ns)]) {
      // A previous run with the same PID that died before cleaning up.
      if (new RegExp(`^${ns}( |$)`, 'm').test(existing)) await ip(['netns', 'del', ns]);
    }
    await this.addNs(this.switchNs);
    await ip(['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    for (const [i, h] of this.hosts.entries()) {
      await this.addNs(h.ns);
      const hostEnd = `${this.prefix}h${i + 1}`;
      await ip(['link', 'add', hostEnd, 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.switchPort, 'netns', this.switchNs]);
      await ip(['-n', h.ns, 'link', 'set', hostEnd, 'name', 'eth0']);
      await ip(['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      await ip(['-n', h.ns, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', this.switchNs, 'link', 'set', h.switchPort, 'master', 'br0']);
      await ip(['-n', this.switchNs, 'link', 'set', h.switchPort, 'up']);
    }
  }

  private async addNs(ns: string): Promise<void> {
    await ip(['netns', 'add', ns]);
    this.created.push(ns);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** Pull the host's cable out of the switch. */
  cut(h: NetnsHost): Promise<string> {
    return ip(['-n', this.switchNs, 'link', 'set', h.switchPort, 'down']);
  }

  restore(h: NetnsHost): Promise<string> {
    return ip(['-n', this.switchNs, 'link', 'set', h.switchPort, 'up']);
  }

  /** Delete every namespace this LAN created (their veths go with them). Never throws. */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    for (const ns of this.created.reverse()) {
      try {
        await ip(['netns', 'del', ns]);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    this.created.length = 0;
    return problems;
  }
}
