// cli/tui/run.ts — stand-alone entry: `node --import tsx cli/tui/run.ts [tui flags]`.
//
// Owns: running tuiCommand outside cli/main.ts (tests, and before `tui` is wired there).
// Must never: do anything the `muster tui` command does not.
import { interactiveTerminal } from './tty.ts';

interactiveTerminal();
const { tuiCommand } = await import('./index.tsx');
const code = await tuiCommand(process.argv.slice(2));
process.exitCode = code;
