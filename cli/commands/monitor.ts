// cli/commands/monitor.ts — `consul monitor [-log-level=info]`: stream the agent's log.
//
// Owns: the long-poll loop over /v1/agent/monitor (Consul streams over its RPC port; Muster
// asks for lines after the last seq it saw, and the agent answers when there are some).
// Must never: exit on an idle agent; it stops when the agent goes away (Consul's message).
import { api, guard, httpAddr, parseFlags, str, type CliIo } from './common.ts';

const USAGE = `Usage: consul monitor [options]

  Shows recent log messages of a Consul agent, and attaches to the agent,
  outputting log messages as they occur in real time.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
  -log-level=info           Log level of the agent.
`;

const IDLE_PAUSE_MS = 250;

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    // -max-polls is hidden: it bounds the loop for tests.
    const { flags } = parseFlags(args, { 'log-level': 'string', 'max-polls': 'string' });
    const level = str(flags, 'log-level', 'info');
    const maxPolls = Number(str(flags, 'max-polls', '0')) || Infinity;
    const addr = httpAddr(flags, io.env);
    const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let after = 0;
    for (let poll = 0; poll < maxPolls; poll++) {
      let r;
      try {
        r = await api(io, addr, 'GET', `/v1/agent/monitor?loglevel=${encodeURIComponent(level)}&index=${after}&wait=60s`);
      } catch (err) {
        if (poll === 0) throw err;
        io.stderr('Remote side ended the monitor! This usually means that the\nremote side has exited or crashed.\n');
        return 1;
      }
      if (r.status !== 200) {
        io.stderr(`Error starting monitor: ${r.text.trim() || `HTTP ${r.status}`}\n`);
        return 1;
      }
      if (r.text) io.stdout(r.text);
      const next = Number(r.headers['x-consul-index'] ?? after);
      if (!r.text && next === after) await sleep(IDLE_PAUSE_MS);
      after = Number.isFinite(next) ? next : after;
    }
    return 0;
  });
}
