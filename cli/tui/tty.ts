// cli/tui/tty.ts — make ink render live when a person is at a terminal.
//
// Owns: one decision taken before ink is loaded. ink decides at import time (is-in-ci) that a
// process with CI=true in its environment gets only a final frame, never live updates. The TUI
// is interactive by definition, so on a real terminal that guess is wrong: it is switched off
// here. Without a TTY (piped output, --print-after), nothing changes.
// Must never: import ink (the decision must come before ink's first import).
export function interactiveTerminal(): void {
  if (process.stdout.isTTY && process.stdin.isTTY) {
    process.env.CI = 'false';
    process.env.CONTINUOUS_INTEGRATION = 'false';
  }
}
