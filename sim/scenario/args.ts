// sim/scenario/args.ts — where a scenario's paths and addresses land on a host.
//
// Owns: resolving a path a scenario writes (`./conf`, `/tmp/consul`) against the host's
// working directory, and rewriting `consul agent` flags that name paths or addresses, so
// both backends (sim: virtual disk; real: a temp dir per host, loopback addresses) agree.
// Must never: touch a disk or the network.

/** Every host's working directory (relative paths in a scenario start here). */
export const HOST_CWD = '/home/muster';

/** Absolute, normalised ('.' and '..' resolved, no trailing '/'). */
export function resolvePath(path: string, cwd = HOST_CWD): string {
  const parts: string[] = [];
  for (const seg of (path.startsWith('/') ? path : `${cwd}/${path}`).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

const PATH_FLAGS = new Set(['data-dir', 'config-dir', 'config-file', 'ui-dir']);
const ADDR_FLAGS = new Set(['bind', 'advertise', 'client', 'join', 'retry-join']);

export interface AgentArgMapping {
  path(p: string): string;
  /** An address flag's value (an ip, or ip:port for joins). */
  addr(flag: string, value: string): string;
}

/** Rewrite path and address flag values; both `-flag=v` and `-flag v` forms. */
export function rewriteAgentArgs(args: string[], map: AgentArgMapping): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^(--?)([a-z-]+)(=(.*))?$/s.exec(a);
    const name = m?.[2] ?? '';
    const isPath = PATH_FLAGS.has(name);
    const isAddr = ADDR_FLAGS.has(name);
    if (!m || (!isPath && !isAddr)) {
      out.push(a);
      continue;
    }
    const fix = (v: string): string => (isPath ? map.path(v) : map.addr(name, v));
    if (m[3] !== undefined) out.push(`${m[1]}${name}=${fix(m[4]!)}`);
    else if (i + 1 < args.length) {
      out.push(a, fix(args[i + 1]!));
      i++;
    } else out.push(a);
  }
  return out;
}

/** The value of `-flag` / `-flag=v` / `--flag v`, or undefined. */
export function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z-]+)(=(.*))?$/s.exec(args[i]!);
    if (!m || m[1] !== flag) continue;
    return m[2] !== undefined ? m[3] : args[i + 1];
  }
  return undefined;
}
