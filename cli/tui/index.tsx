// cli/tui/index.tsx — `muster tui`: the terminal UI's command line.
//
// Owns: parsing the flags, choosing the mode (scenario replay, random simulated cluster, real
// cluster over HTTP), starting the controller's timers, rendering the ink app on the terminal's
// alternate screen and restoring the terminal on quit; `--print-after MS` prints one plain
// frame instead (no terminal needed; used for docs/tui-capture.txt).
// Must never: hold protocol or simulation logic; it wires cli/tui pieces together.
import React from 'react';
import { render, renderToString } from 'ink';
import { SimObserver } from '../../sim/tui-model.ts';
import { ScenarioSyntaxError } from '../../sim/scenario/types.ts';
import { App } from './app.tsx';
import { Screen } from './view.tsx';
import type { TuiController } from './controller.ts';
import { SimController } from './sim-controller.ts';
import { buildSimCluster } from './sim-cluster.ts';

export const TUI_USAGE = `usage: muster tui [--seed N] [--servers 3] [--clients 2]
       muster tui --scenario FILE [--seed N]
       muster tui --http-addr 127.0.0.1:8500

Watch elections, gossip, the network and DNS health live.
  --seed N            seed of the simulated world (default 1)
  --servers N         simulated servers (-bootstrap-expect N), 1..9 (default 3)
  --clients N         simulated clients, each with a 'web' service, 0..9 (default 2)
  --scenario FILE     replay a scenario file in the simulator, with the same controls
  --http-addr ADDR    watch a real cluster through this agent's HTTP API (read-only)
  --speed X           virtual ms per real ms at start (default 1)
  --paused            start paused
  --print-after MS    run MS of virtual time, print one frame as plain text, exit
  --size COLSxROWS    frame size for --print-after (default 80x24)

Keys (simulator): space pause/resume, s single step, + / - speed, p isolate the selected node,
h heal it, c crash it, r restart it, l graceful leave, e run to the next election,
tab / 1-9 select a node, q quit.
`;

export interface TuiArgs {
  seed: string;
  servers: number;
  clients: number;
  scenario: string | null;
  httpAddr: string | null;
  speed: number;
  paused: boolean;
  printAfterMs: number | null;
  size: { cols: number; rows: number };
}

export class TuiUsageError extends Error {}

export function parseTuiArgs(args: string[]): TuiArgs {
  const out: TuiArgs = { seed: '1', servers: 3, clients: 2, scenario: null, httpAddr: null, speed: 1, paused: false, printAfterMs: null, size: { cols: 80, rows: 24 } };
  const wholeNumber = (flag: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new TuiUsageError(`muster tui: ${flag} needs a whole number from ${min} to ${max}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const raw = args[i]!;
    const flag = raw.replace(/^--?/, '').split('=')[0]!;
    const value = (): string => {
      const v = raw.includes('=') ? raw.slice(raw.indexOf('=') + 1) : args[++i];
      if (v === undefined || v === '') throw new TuiUsageError(`muster tui: --${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case 'seed':
        out.seed = value();
        break;
      case 'servers':
        out.servers = wholeNumber('--servers', value(), 1, 9);
        break;
      case 'clients':
        out.clients = wholeNumber('--clients', value(), 0, 9);
        break;
      case 'scenario':
        out.scenario = value();
        break;
      case 'http-addr':
        out.httpAddr = value().replace(/^https?:\/\//, '');
        break;
      case 'speed': {
        const v = value();
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0 || n > 1000) throw new TuiUsageError(`muster tui: --speed needs a number above 0 and at most 1000, got '${v}'`);
        out.speed = n;
        break;
      }
      case 'paused':
        out.paused = true;
        break;
      case 'print-after':
        out.printAfterMs = wholeNumber('--print-after', value(), 0, 24 * 3_600_000);
        break;
      case 'size': {
        const v = value();
        const m = /^(\d+)x(\d+)$/.exec(v);
        if (!m || Number(m[1]) < 40 || Number(m[2]) < 12) throw new TuiUsageError(`muster tui: --size needs COLSxROWS of at least 40x12, e.g. 80x24, got '${v}'`);
        out.size = { cols: Number(m[1]), rows: Number(m[2]) };
        break;
      }
      default:
        throw new TuiUsageError(`muster tui: unknown flag '${raw}'`);
    }
  }
  if (out.httpAddr && out.scenario) throw new TuiUsageError('muster tui: --http-addr and --scenario exclude each other (real cluster or simulator)');
  return out;
}

/** Builds the controller for the chosen mode (nothing runs until start() or tick()). */
export async function makeController(a: TuiArgs): Promise<TuiController> {
  if (a.httpAddr) {
    const { HttpController } = await import('./http-controller.ts');
    const { nodeHttpClient } = await import('../http-client.ts');
    return new HttpController({ addr: a.httpAddr, http: nodeHttpClient() });
  }
  if (a.scenario) {
    const { readScenario, startScenario } = await import('./scenario-driver.ts');
    const session = startScenario(readScenario(a.scenario), a.scenario, a.seed);
    return new SimController(session.observer, {
      speed: a.speed,
      paused: a.paused,
      advance: (ms) => session.advance(ms),
      afterManualTime: () => session.backend.settleWait(),
    });
  }
  const cluster = buildSimCluster({ seed: /^\d+$/.test(a.seed) ? Number(a.seed) : a.seed, servers: a.servers, clients: a.clients });
  const observer = new SimObserver(cluster.world, () => cluster.agents, {
    mode: 'sim',
    title: `${a.servers} server${a.servers === 1 ? '' : 's'}, ${a.clients} client${a.clients === 1 ? '' : 's'}`,
  });
  return new SimController(observer, { speed: a.speed, paused: a.paused });
}

/** Strip colours and styles. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** Drive a simulated controller for ms of virtual time in frames, then render one frame. */
export async function printFrame(controller: TuiController, ms: number, size: { cols: number; rows: number }): Promise<string> {
  if (controller instanceof SimController) {
    let left = ms;
    while (left > 0) {
      const slice = Math.min(100, left);
      controller.tick(slice / controller.speed);
      left -= slice;
      await new Promise((r) => setImmediate(r)); // the scenario engine continues between frames
    }
  } else {
    controller.start();
    await new Promise((r) => setTimeout(r, ms));
  }
  const ui = { selected: 0, paused: controller.paused, speed: controller.speed, message: null, readOnly: controller.readOnly };
  const text = renderToString(<Screen model={controller.model()} ui={ui} cols={size.cols} rows={size.rows} />, { columns: size.cols });
  controller.stop();
  return plain(text)
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

export async function tuiCommand(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(TUI_USAGE);
    return 0;
  }
  let a: TuiArgs;
  let controller: TuiController;
  try {
    a = parseTuiArgs(args);
    controller = await makeController(a);
  } catch (e) {
    if (e instanceof TuiUsageError) {
      process.stderr.write(`${e.message}\n\n${TUI_USAGE}`);
      return 2;
    }
    if (e instanceof ScenarioSyntaxError || (e instanceof Error && e.message.startsWith('muster tui:'))) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    if (e instanceof Error && /--servers|--clients/.test(e.message)) {
      process.stderr.write(`muster tui: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (a.printAfterMs !== null) {
    process.stdout.write(`${await printFrame(controller, a.printAfterMs, a.size)}\n`);
    return 0;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    controller.stop();
    process.stderr.write('muster tui: needs an interactive terminal (stdin and stdout must be a TTY); for a one-shot frame use --print-after MS\n');
    return 2;
  }
  return runInteractive(controller);
}

async function runInteractive(controller: TuiController): Promise<number> {
  const out = process.stdout;
  out.write('\x1b[?1049h\x1b[H'); // alternate screen: the shell's scrollback comes back on quit
  const restore = (): void => {
    out.write('\x1b[?25h\x1b[?1049l');
  };
  process.once('exit', restore);
  controller.start();
  const app = render(<App controller={controller} />, { exitOnCtrlC: false, patchConsole: true, maxFps: 20 });
  try {
    await app.waitUntilExit();
  } finally {
    controller.stop();
    app.unmount();
    restore();
    process.removeListener('exit', restore);
  }
  // A blocking query to a real agent may still be open; do not let it hold the process.
  setTimeout(() => process.exit(0), 300).unref();
  return 0;
}
