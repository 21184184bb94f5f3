// sim/scenario/types.ts — the parsed shape of a scenario file (see scenarios/README.md).
//
// Owns: the records the parser produces and the runner consumes: hosts, steps, commands and
// expected-output patterns, each with the file line it came from.
// Must never: contain behaviour; parsing is parse.ts, matching is match.ts, running is engine.ts.

export interface HostDecl {
  name: string;
  ip: string;
  line: number;
}

/** One line of expected output, or a marker. */
export type ExpectItem =
  /** A line; `{{*}}` inside it matches any text. */
  | { kind: 'line'; text: string; line: number }
  /** Lines that must all appear, in any order. */
  | { kind: 'anyOrder'; lines: Array<{ text: string; line: number }>; line: number }
  /** `… …` / `…` / `{{...}}`: any number of lines (exact mode only; implicit in log mode). */
  | { kind: 'skip'; line: number };

export interface ExpectBlock {
  items: ExpectItem[];
  /** File lines [startLine, endLine] (1-based, inclusive) the block occupies; endLine < startLine when empty. */
  startLine: number;
  endLine: number;
}

export type Sig = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGKILL';

export type Command =
  | { kind: 'agent'; args: string[] }
  | { kind: 'cli'; args: string[] }
  | { kind: 'discover'; args: string[] }
  | { kind: 'dig'; args: string[] }
  | { kind: 'curl'; args: string[] }
  | { kind: 'cat'; path: string }
  | { kind: 'write'; path: string; text: string; append: boolean }
  | { kind: 'mkdir'; path: string }
  | { kind: 'signal'; target: string; sig: Sig }
  | { kind: 'webservice'; name: string; port: number; greeting: string }
  | { kind: 'sleep'; ms: number };

export type Step = (
  | { kind: 'run'; host: string; text: string; command: Command; expect: ExpectBlock; line: number }
  /** `n1 log:` (the agent) or `n3 web3 log:` (a web service): lines that must appear next. */
  | { kind: 'log'; host: string; proc: string; withinMs: number | null; expect: ExpectBlock; line: number }
  | { kind: 'sleep'; ms: number; line: number }
  | { kind: 'partition'; groups: string[][]; line: number }
  | { kind: 'isolate'; host: string; line: number }
  | { kind: 'heal'; line: number }
) & {
  /** Set by a `coin toss` line before the step: a mismatch here means a random outcome
   *  (an election) went the other way, and the run is replayed with the next attempt. */
  coinToss?: boolean;
};

export interface Scenario {
  file: string;
  hosts: HostDecl[];
  steps: Step[];
  /** The source, split into lines (for --update). */
  sourceLines: string[];
}

export class ScenarioSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
    readonly hint: string,
  ) {
    super(`${file}:${line}: ${problem}${hint ? `\n  ${hint}` : ''}`);
    this.name = 'ScenarioSyntaxError';
  }
}
