// cli/commands/validate.ts — `consul validate [-quiet] FILE_OR_DIR…` and 0.5's
// `consul configtest -config-file=F -config-dir=D`: check config files without starting an agent.
//
// Owns: turning the arguments into config paths (relative ones against the working directory)
// and printing Consul's verdict: "Configuration is valid!" and exit 0, or
// "Config validation failed: <file:line:col: key: reason>" and exit 1.
// Must never: parse config itself — it runs the agent's own loader (core/config/load.ts), so a
// file that validates is a file the agent accepts.
import fs from 'node:fs';
import path from 'node:path';
import { loadAgentConfig } from '../../core/config/load.ts';
import { RealDisk } from '../../transports/disk.ts';

export interface ValidateIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const VALIDATE_USAGE = `Usage: consul validate [options] FILE_OR_DIRECTORY...

  Performs a basic sanity test on Consul configuration files. For each file
  or directory given, the validate command will attempt to parse the
  contents just as the "consul agent" command would, and catch any errors.

  Returns 0 if the configuration is valid, or 1 if there are problems.

Options:

  -quiet   When given, a successful run will produce no output.
`;

const CONFIGTEST_USAGE = `Usage: consul configtest [options]

  Performs a basic sanity test on Consul configuration files (Consul 0.5's
  name for 'consul validate').

Options:

  -config-file=foo   Path to a JSON or HCL file to read configuration from. Repeatable.
  -config-dir=foo    Path to a directory of *.json / *.hcl files. Repeatable.
`;

/** Run the agent's loader on these paths; 0 and the verdict, or 1 and the error. */
function check(paths: Array<{ kind: 'dir' | 'file'; path: string }>, quiet: boolean, io: ValidateIo): number {
  const args = ['-data-dir=/validate-only']; // the files may leave data_dir to the command line
  for (const p of paths) args.push(`-config-${p.kind}=${path.resolve(p.path)}`);
  try {
    loadAgentConfig(args, 'validate', new RealDisk());
  } catch (err) {
    io.stderr(`Config validation failed: ${(err as Error).message}\n`);
    return 1;
  }
  if (!quiet) io.stdout('Configuration is valid!\n');
  return 0;
}

const stdio: ValidateIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

export async function validateCommand(args: string[], io: ValidateIo = stdio): Promise<number> {
  let quiet = false;
  const paths: Array<{ kind: 'dir' | 'file'; path: string }> = [];
  for (const a of args) {
    if (a === '-quiet' || a === '--quiet' || a === '-quiet=true') quiet = true;
    else if (a === '-h' || a === '-help' || a === '--help') {
      io.stdout(VALIDATE_USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      io.stderr(`flag provided but not defined: ${a.split('=')[0]}\n${VALIDATE_USAGE}`);
      return 1;
    } else {
      let isDir = false;
      try {
        isDir = fs.statSync(a).isDirectory();
      } catch {
        // missing: the loader says so, naming the path
      }
      paths.push({ kind: isDir ? 'dir' : 'file', path: a });
    }
  }
  if (paths.length === 0) {
    io.stderr(`Must specify at least one config file or directory\n${VALIDATE_USAGE}`);
    return 1;
  }
  return check(paths, quiet, io);
}

export async function configtestCommand(args: string[], io: ValidateIo = stdio): Promise<number> {
  const paths: Array<{ kind: 'dir' | 'file'; path: string }> = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--?config-(file|dir)(?:=(.*))?$/.exec(args[i]!);
    if (!m) {
      io.stderr(`flag provided but not defined: ${args[i]!.split('=')[0]}\n${CONFIGTEST_USAGE}`);
      return 1;
    }
    const value = m[2] ?? args[++i];
    if (value === undefined) {
      io.stderr(`flag needs an argument: -config-${m[1]}\n${CONFIGTEST_USAGE}`);
      return 1;
    }
    paths.push({ kind: m[1] as 'dir' | 'file', path: value });
  }
  if (paths.length === 0) {
    io.stderr(`Must specify config using -config-file or -config-dir\n${CONFIGTEST_USAGE}`);
    return 1;
  }
  return check(paths, false, io);
}
