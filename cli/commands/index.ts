// cli/commands/index.ts — the Consul-compatible commands by name, and the real-process CliIo.
//
// Owns: the name → run map cli/main.ts dispatches to, and defaultIo() (process streams,
// environment, node:http client, files, stdin, `sh -c` handlers for watch).
// Must never: be imported by core/ or sim/; the simulator builds its own CliIo.
import { spawn } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { nodeHttpClient } from '../http-client.ts';
import type { CliIo, Command } from './common.ts';
import { run as catalog } from './catalog.ts';
import { run as forceLeave } from './force-leave.ts';
import { run as info } from './info.ts';
import { run as join } from './join.ts';
import { run as keygen } from './keygen.ts';
import { run as kv } from './kv.ts';
import { run as leave } from './leave.ts';
import { run as lock } from './lock.ts';
import { run as maint } from './maint.ts';
import { run as members } from './members.ts';
import { run as monitor } from './monitor.ts';
import { run as operator } from './operator.ts';
import { run as reload } from './reload.ts';
import { run as snapshot } from './snapshot.ts';
import { run as tls } from './tls.ts';
import { run as version } from './version.ts';
import { run as watch } from './watch.ts';

export type { CliIo, Command };

export const commands: Record<string, Command> = {
  catalog,
  'force-leave': forceLeave,
  info,
  join,
  keygen,
  kv,
  leave,
  lock,
  maint,
  members,
  monitor,
  operator,
  reload,
  snapshot,
  tls,
  version,
  watch,
};

export function defaultIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    http: nodeHttpClient(),
    readFile: async (path) => new Uint8Array(await readFile(path)),
    // Written beside the target and renamed, so a failed save never leaves half a file.
    writeFile: async (path, data) => {
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, path);
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    },
    runHandler: (command, stdin, env) =>
      new Promise((resolve) => {
        const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, ...env } });
        child.on('error', () => resolve(127));
        child.on('close', (code) => resolve(code ?? 1));
        child.stdin.end(stdin);
      }),
    startChild: (argv, { shell, passStdin }) => {
      // Consul's exec.Script: $SHELL (else /bin/sh) -c "<args joined by spaces>".
      const [cmd, args] = shell ? [process.env['SHELL'] || '/bin/sh', ['-c', argv.join(' ')]] : [argv[0]!, argv.slice(1)];
      const child = spawn(cmd, args, { stdio: [passStdin ? 'inherit' : 'ignore', 'inherit', 'inherit'] });
      const exited = new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
        child.once('error', (e) => resolve({ code: null, signal: null, error: e.message }));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      return {
        pid: child.pid ?? 0,
        exited,
        kill: (sig) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(sig);
        },
      };
    },
    onShutdown: (handler) => {
      const h = (): void => handler();
      process.on('SIGINT', h);
      process.on('SIGTERM', h);
      return () => {
        process.off('SIGINT', h);
        process.off('SIGTERM', h);
      };
    },
  };
}
