// The real program in a real terminal: `muster tui` under tmux (100×30), read back with
// capture-pane, driven with send-keys (pause, select, isolate, crash, quit), and a clean exit.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const SOCKET = `muster-tui-test-${process.pid}`;
const SESSION = `tui${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', SESSION);
let socketPath = '';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitScreen(cond: (s: string) => boolean, what: string, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen();
    if (cond(s)) return s;
    await sleep(100);
  }
  throw new Error(`tmux screen never showed ${what}; last screen:\n${s}`);
}

afterAll(() => {
  try {
    tmux('kill-session', '-t', SESSION);
  } catch {
    /* already gone */
  }
  if (socketPath) rmSync(socketPath, { force: true }); // the server exits with its last session
});

describe('muster tui in tmux', () => {
  it('shows the cluster, obeys keys and quits cleanly with q', async () => {
    const cmd = `node --import tsx cli/tui/run.ts --seed 7 --servers 3 --clients 1 --speed 2; echo "EXIT=$?"; sleep 60`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '30', '-c', process.cwd(), cmd);
    socketPath = tmux('display-message', '-p', '-t', SESSION, '#{socket_path}').trim();
    // Generous first wait: tsx compiles the TUI on first start, slow on a loaded 2-core machine.
    let s = await waitScreen((x) => x.includes('Leader t1') && x.includes('wins election t1'), 'an elected leader', 90_000);
    expect(s).toContain('Muster TUI │ 3 servers, 1 client │ ▶ running ×2');
    expect(s).toMatch(/seed 7 · t=\d+\.\d{3}s · trace [0-9a-f]{16}/);
    expect(s.trimEnd().split('\n').length).toBeLessThanOrEqual(30);
    for (const n of ['n1', 'n2', 'n3', 'c1']) expect(s).toContain(` ${n} `);

    tmux('send-keys', '-t', SESSION, 'Space');
    s = await waitScreen((x) => x.includes('❚❚ paused'), 'paused');
    const t1 = /t=(\d+\.\d{3})s/.exec(s)![1];
    await sleep(500);
    expect(/t=(\d+\.\d{3})s/.exec(screen())![1]).toBe(t1);

    tmux('send-keys', '-t', SESSION, '2');
    tmux('send-keys', '-t', SESSION, 'p');
    s = await waitScreen((x) => x.includes('cut: [n1 n3 c1] ╳ [n2]'), 'the partition');
    expect(s).toContain('n2 isolated');
    tmux('send-keys', '-t', SESSION, 'h');
    await waitScreen((x) => x.includes('no partition'), 'the heal');

    tmux('send-keys', '-t', SESSION, '4');
    tmux('send-keys', '-t', SESSION, 'c');
    s = await waitScreen((x) => x.includes('c1 crashed'), 'the crash');
    expect(s).toMatch(/4 c1[^\n]*\n[^\n]*10\.10\.2\.1[^\n]*\n[^\n]*Down/);

    tmux('resize-window', '-t', SESSION, '-x', '80', '-y', '24');
    s = await waitScreen((x) => x.trimEnd().split('\n').length <= 24 && x.includes('seed 7') && x.includes('Timeline'), 'a redraw at 80×24');

    tmux('send-keys', '-t', SESSION, 'q');
    s = await waitScreen((x) => x.includes('EXIT=0'), 'a clean exit');
    expect(s).not.toContain('Muster TUI'); // alternate screen left; the shell's screen is back
  }, 90_000);
});
