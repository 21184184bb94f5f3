// sim/scenario/engine.ts — replaying a parsed scenario against a backend.
//
// Owns: walking the steps in order, printing the transcript, comparing output (exact for
// commands, log-style for agents and `NAME log:` blocks, waiting for log lines up to a
// deadline), reporting the first mismatch with expected vs actual, and collecting the
// rewrites `--update` makes.
// Must never: know which world it runs in (sim or real); everything goes through the backend.
import { StepError, type ProcView, type ScenarioBackend } from './backend.ts';
import { matchExact, matchLog, normalizeLogLine, normalizeOutput, lineMatches, type MatchFailure } from './match.ts';
import type { ExpectBlock, ExpectItem, Scenario, Step } from './types.ts';

/** How long an agent's start-up lines may take to appear. */
export const AGENT_START_WAIT_MS = 30_000;
/** Default for `NAME log:` blocks (`NAME log within 90s:` overrides). */
export const LOG_WAIT_MS = 60_000;
/** How long `^C` / `kill agent` may take: a graceful leave, then exit. */
export const AGENT_STOP_WAIT_MS = 60_000;

export interface Failure {
  line: number;
  step: string;
  message: string;
}

export interface Replacement {
  startLine: number;
  endLine: number;
  lines: string[];
}

export interface RunResult {
  ok: boolean;
  failures: Failure[];
  traceHash: string | null;
  replacements: Replacement[];
  stepsRun: number;
  /** Line of a `coin toss` step that went the other way (the run stopped there), else null. */
  coinTossLost: number | null;
}

export interface RunOptions {
  update?: boolean;
  /** Carry on after a mismatch (to see every mismatch at once); implied by update. */
  keepGoing?: boolean;
  out?: (text: string) => void;
  /** Called when a `coin toss` step matched (the dice fell as the scenario tells it). */
  onCoinTossWon?: (line: number) => void;
}

function stepTitle(s: Step): string {
  switch (s.kind) {
    case 'run':
      return `${s.host}$ ${s.text}`;
    case 'log':
      return `${s.host}${s.proc === 'agent' ? '' : ` ${s.proc}`} log${s.withinMs !== null ? ` within ${s.withinMs / 1000}s` : ''}:`;
    case 'sleep':
      return `sleep ${s.ms / 1000}s`;
    case 'partition':
      return `partition ${s.groups.map((g) => g.join(' ')).join(' | ')}`;
    case 'isolate':
      return `isolate ${s.host}`;
    case 'heal':
      return 'heal';
  }
}

/** Lines that would read as scenario syntax get a leading backslash when written back. */
function escapeLine(line: string, hostNames: string[]): string {
  const t = line;
  const looksLikeStep =
    t.startsWith('#') ||
    t.startsWith('\\') ||
    /^(host|sleep|partition|isolate|heal)(\s|$)/.test(t) ||
    hostNames.some((h) => t.startsWith(`${h}$`) || new RegExp(`^${h.replace(/[.]/g, '\\.')}(\\s+\\S+)?\\s+log(\\s+within\\s+\\S+)?:\\s*$`).test(t)) ||
    ['{{any order}}', '{{end}}', '{{...}}'].includes(t.trim()) ||
    (t.includes('…') && /^[….\s]+$/.test(t));
  return looksLikeStep ? `\\${line}` : line;
}

function flatLines(items: ExpectItem[]): Array<{ text: string; line: number }> | null {
  const out: Array<{ text: string; line: number }> = [];
  for (const it of items) {
    if (it.kind !== 'line') return null;
    out.push(it);
  }
  return out;
}

/** The transcript shows runs of the same log line once, with a count. */
function compactLog(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const key = normalizeLogLine(lines[i]!);
    let j = i + 1;
    while (j < lines.length && key !== '' && normalizeLogLine(lines[j]!) === key) j++;
    out.push(lines[i]!);
    if (j - i > 1) out.push(`    (… ${j - i - 1} more of the same)`);
    i = j;
  }
  return out;
}

export class ScenarioEngine {
  private readonly cursors = new Map<ProcView, number>();
  private readonly out: (text: string) => void;
  private readonly failures: Failure[] = [];
  private readonly replacements: Replacement[] = [];
  private readonly hostNames: string[];

  constructor(
    private readonly scenario: Scenario,
    private readonly backend: ScenarioBackend,
    private readonly opts: RunOptions = {},
  ) {
    this.out = opts.out ?? (() => {});
    this.hostNames = scenario.hosts.map((h) => h.name);
  }

  async run(): Promise<RunResult> {
    let stepsRun = 0;
    let coinTossLost: number | null = null;
    try {
      await this.backend.start(this.scenario.hosts);
      for (const step of this.scenario.steps) {
        stepsRun++;
        const title = stepTitle(step);
        this.backend.note(`scenario line ${step.line}: ${title}`);
        this.out(`\n${title}\n`);
        let ok: boolean;
        const repsBefore = this.replacements.length;
        try {
          ok = await this.runStep(step);
        } catch (e) {
          if (!(e instanceof StepError)) throw e;
          this.fail(step, e.message);
          ok = false;
        }
        // A coin toss can only be lost on a run that matched so far.
        if (!ok && step.coinToss && this.failures.length === 1) {
          // Not a wrong expectation: the dice fell the other way. Nothing to rewrite.
          this.replacements.length = repsBefore;
          coinTossLost = step.line;
          break;
        }
        if (ok && step.coinToss) this.opts.onCoinTossWon?.(step.line);
        if (!ok && !this.opts.update && !this.opts.keepGoing) break;
      }
    } finally {
      await this.backend.close();
    }
    return {
      ok: this.failures.length === 0,
      failures: this.failures,
      traceHash: this.backend.traceHash(),
      replacements: this.replacements,
      stepsRun,
      coinTossLost,
    };
  }

  private fail(step: Step, message: string): void {
    this.failures.push({ line: step.line, step: stepTitle(step), message });
    this.out(`\n!! MISMATCH at ${this.scenario.file}:${step.line} (${stepTitle(step)})\n${message}\n`);
  }

  private async runStep(step: Step): Promise<boolean> {
    const b = this.backend;
    switch (step.kind) {
      case 'sleep':
        await b.sleep(step.ms);
        return true;
      case 'partition':
        b.partition(step.groups);
        return true;
      case 'isolate':
        b.isolate(step.host);
        return true;
      case 'heal':
        b.heal();
        return true;
      case 'log': {
        const p = b.proc(step.host, step.proc);
        if (!p) throw new StepError(`${step.host} has no ${step.proc === 'agent' ? 'agent' : `process '${step.proc}'`} to read a log from; start one first`);
        return this.expectLog(step, step.expect, p, step.withinMs ?? LOG_WAIT_MS, false);
      }
      case 'run':
        break;
    }
    const cmd = step.command;
    if (cmd.kind === 'agent') {
      await b.startAgent(step.host, cmd.args);
      const p = b.proc(step.host, 'agent')!;
      this.cursors.set(p, 0);
      return this.expectLog(step, step.expect, p, AGENT_START_WAIT_MS, false);
    }
    if (cmd.kind === 'signal' && cmd.target === 'agent') {
      const p = b.proc(step.host, 'agent');
      if (!p || p.exited()) throw new StepError(`${step.host} runs no agent to send ${cmd.sig} to`);
      if (!this.cursors.has(p)) this.cursors.set(p, 0);
      await b.signal(step.host, 'agent', cmd.sig);
      const waitExit = cmd.sig !== 'SIGHUP';
      return this.expectLog(step, step.expect, p, AGENT_STOP_WAIT_MS, waitExit);
    }
    const text = await b.exec(step.host, cmd);
    return this.expectExact(step, step.expect, text);
  }

  private expectExact(step: Step, expect: ExpectBlock, text: string): boolean {
    const actual = normalizeOutput(text);
    for (const l of actual) this.out(`${l}\n`);
    const failure = matchExact(expect.items, actual);
    if (!failure) return true;
    this.fail(step, this.describeExact(expect, actual, failure));
    if (this.opts.update) {
      const old = flatLines(expect.items);
      const lines =
        old && old.length === actual.length
          ? actual.map((a, i) => (lineMatches(old[i]!.text, a) ? old[i]!.text : escapeLine(a, this.hostNames)))
          : actual.map((a) => escapeLine(a, this.hostNames));
      this.replacements.push({ startLine: expect.startLine, endLine: expect.endLine, lines });
    }
    return false;
  }

  private describeExact(expect: ExpectBlock, actual: string[], f: MatchFailure): string {
    const exp: string[] = [];
    for (const it of expect.items) {
      if (it.kind === 'line') exp.push(it.text);
      else if (it.kind === 'skip') exp.push('… …');
      else exp.push('{{any order}}', ...it.lines.map((l) => l.text), '{{end}}');
    }
    const where =
      f.expectedLine === 0
        ? `more output than expected, from: ${JSON.stringify(actual[f.actualIndex] ?? '')}`
        : `expected (line ${f.expectedLine}): ${JSON.stringify(f.expectedText)}\n   actual: ${f.actualIndex < actual.length ? JSON.stringify(actual[f.actualIndex]) : '(output ended)'}`;
    return [
      '--- expected',
      ...exp.map((l) => `  ${l}`),
      '+++ actual',
      ...actual.map((l) => `  ${l}`),
      `first difference: ${where}`,
    ].join('\n');
  }

  private async expectLog(step: Step, expect: ExpectBlock, p: ProcView, waitMs: number, waitExit: boolean): Promise<boolean> {
    const from = this.cursors.get(p) ?? 0;
    let seen = -1;
    let ok = false;
    const check = (): boolean => {
      const lines = p.lines();
      if (lines.length !== seen) {
        seen = lines.length;
        ok = matchLog(expect.items, lines, from).ok;
      }
      if (ok) return !waitExit || p.exited();
      // An exited process prints nothing more: stop waiting.
      return p.exited();
    };
    await this.backend.waitUntil(check, waitMs);
    const lines = p.lines();
    const m = matchLog(expect.items, lines, from);
    const next = m.ok ? m.next : lines.length;
    for (const l of compactLog(lines.slice(from, m.ok ? next : lines.length))) this.out(`${l}\n`);
    if (m.ok && (!waitExit || p.exited())) {
      this.cursors.set(p, next);
      return true;
    }
    if (m.ok) {
      this.cursors.set(p, next);
      this.fail(step, `the process did not exit within ${waitMs / 1000}s`);
      return false;
    }
    const f = m.failure;
    this.fail(
      step,
      [
        `log line not seen within ${waitMs / 1000}s${p.exited() ? ' (the process has exited)' : ''}:`,
        `  expected (line ${f.expectedLine}): ${f.expectedText.trim()}`,
        `  searched ${lines.length - f.actualIndex} new line(s) after the previous match; the log from there is shown above`,
      ].join('\n'),
    );
    if (this.opts.update && !step.coinToss) this.replacements.push(this.logRewrite(expect, lines, from));
    // Keep going from where the log is now.
    this.cursors.set(p, lines.length);
    return false;
  }

  /** --update for log blocks: keep the lines that did appear, in order; drop the others. */
  private logRewrite(expect: ExpectBlock, lines: string[], from: number): Replacement {
    const kept: string[] = [];
    let at = from;
    for (const it of expect.items) {
      const m = matchLog([it], lines, at);
      if (!m.ok) {
        this.out(`   (update: dropping line ${it.line}: ${it.kind === 'line' ? it.text.trim() : '{{any order}} group'})\n`);
        continue;
      }
      at = m.next;
      if (it.kind === 'line') kept.push(it.text);
      else if (it.kind === 'skip') kept.push('… …');
      else kept.push('{{any order}}', ...it.lines.map((l) => l.text), '{{end}}');
    }
    return { startLine: expect.startLine, endLine: expect.endLine, lines: kept };
  }
}

/** Apply --update rewrites to the source lines (bottom-up so line numbers stay valid). */
export function applyReplacements(sourceLines: string[], reps: Replacement[]): string[] {
  const out = sourceLines.slice();
  for (const r of reps.slice().sort((a, b) => b.startLine - a.startLine)) {
    const count = r.endLine >= r.startLine ? r.endLine - r.startLine + 1 : 0;
    out.splice(r.startLine - 1, count, ...r.lines);
  }
  return out;
}
