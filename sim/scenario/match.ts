// sim/scenario/match.ts — does actual output match a scenario's expected block?
//
// Owns: the two ways of matching. *Exact* (a command's output): every line, in order, after
// expanding tabs and trimming line ends and surrounding blank lines; `{{*}}` matches any text
// within a line, `{{any order}}…{{end}}` a run of lines in any order, `… …` any number of
// lines. *Log* (a long-running process's output): the expected lines must appear in that
// order among the new lines, others may come between; leading indentation and the
// `2015/07/03 09:18:25 ` stamp are ignored on both sides, so walkthrough lines paste as they are.
// Must never: wait or read the world; the engine hands it lines.
import type { ExpectItem } from './types.ts';

const patternCache = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('{{*}}')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    patternCache.set(pattern, re);
  }
  return re;
}

export function lineMatches(pattern: string, actual: string): boolean {
  return pattern.includes('{{*}}') ? compile(pattern).test(actual) : pattern === actual;
}

/** Tabs to spaces at 8-column stops (how a terminal shows dig's columns). */
export function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const c of line) {
    if (c === '\t') out += ' '.repeat(8 - (out.length % 8));
    else out += c;
  }
  return out;
}

/** A command's output as the exact matcher sees it. */
export function normalizeOutput(text: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n').map((l) => expandTabs(l).trimEnd());
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a] === '') a++;
  while (b > a && lines[b - 1] === '') b--;
  return lines.slice(a, b);
}

const STAMP = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /;

/** A log line as the log matcher sees it: no indentation, no time stamp. */
export function normalizeLogLine(line: string): string {
  return expandTabs(line).trim().replace(STAMP, '');
}

export interface MatchFailure {
  /** File line of the expected item that could not be matched (0 = "more output than expected"). */
  expectedLine: number;
  expectedText: string;
  /** Index in the actual lines where it went wrong (may equal length: output ended). */
  actualIndex: number;
}

/** Kuhn's augmenting paths: can each pattern take a distinct candidate line? */
function assign(candidates: number[][]): number[] | null {
  const owner = new Map<number, number>();
  const tryPattern = (p: number, seen: Set<number>): boolean => {
    for (const c of candidates[p]!) {
      if (seen.has(c)) continue;
      seen.add(c);
      const o = owner.get(c);
      if (o === undefined || tryPattern(o, seen)) {
        owner.set(c, p);
        return true;
      }
    }
    return false;
  };
  for (let p = 0; p < candidates.length; p++) if (!tryPattern(p, new Set())) return null;
  const out = new Array<number>(candidates.length);
  for (const [c, p] of owner) out[p] = c;
  return out;
}

export function matchExact(items: ExpectItem[], actual: string[]): MatchFailure | null {
  const memo = new Map<number, boolean>();
  let worst: MatchFailure | null = null;
  // Report the failure that got furthest through the expected lines (then: at a real line, earliest).
  let worstIi = -1;
  const fail = (ii: number, ai: number): false => {
    const better =
      !worst ||
      ii > worstIi ||
      (ii === worstIi && (worst.actualIndex >= actual.length ? ai < actual.length || ai < worst.actualIndex : ai < actual.length && ai < worst.actualIndex));
    if (better) {
      worstIi = ii;
      const it = items[ii];
      worst = it
        ? { expectedLine: it.line, expectedText: it.kind === 'line' ? it.text : it.kind === 'anyOrder' ? it.lines.map((l) => l.text).join('\n') : '… …', actualIndex: ai }
        : { expectedLine: 0, expectedText: '(end of expected output)', actualIndex: ai };
    }
    return false;
  };
  const go = (ii: number, ai: number): boolean => {
    const key = ii * (actual.length + 1) + ai;
    const m = memo.get(key);
    if (m !== undefined) return m;
    let ok: boolean;
    const it = items[ii];
    if (!it) ok = ai === actual.length || fail(ii, ai);
    else if (it.kind === 'line') ok = (ai < actual.length && lineMatches(it.text, actual[ai]!) && go(ii + 1, ai + 1)) || fail(ii, ai);
    else if (it.kind === 'skip') {
      ok = false;
      for (let k = ai; k <= actual.length && !ok; k++) ok = go(ii + 1, k);
    } else {
      const g = it.lines.length;
      const window = actual.slice(ai, ai + g);
      ok =
        (window.length === g &&
          assign(it.lines.map((l) => window.flatMap((a, k) => (lineMatches(l.text, a) ? [k] : [])))) !== null &&
          go(ii + 1, ai + g)) ||
        fail(ii, ai);
    }
    memo.set(key, ok);
    return ok;
  };
  return go(0, 0) ? null : worst;
}

export type LogMatch = { ok: true; next: number } | { ok: false; failure: MatchFailure; matchedUpTo: number };

/**
 * Log mode: expected items appear in order at or after `from` (an any-order group: all its
 * lines, in any order, after the previous item). `next` is just past the last matched line.
 */
export function matchLog(items: ExpectItem[], lines: string[], from: number): LogMatch {
  const norm = lines.map(normalizeLogLine);
  let at = from;
  for (const it of items) {
    if (it.kind === 'skip') continue;
    if (it.kind === 'line') {
      const p = normalizeLogLine(it.text);
      if (p === '') continue;
      let k = at;
      while (k < norm.length && !lineMatches(p, norm[k]!)) k++;
      if (k >= norm.length) return { ok: false, failure: { expectedLine: it.line, expectedText: it.text, actualIndex: at }, matchedUpTo: at };
      at = k + 1;
    } else {
      const pats = it.lines.map((l) => normalizeLogLine(l.text));
      const cands = pats.map((p) => {
        const c: number[] = [];
        for (let k = at; k < norm.length; k++) if (lineMatches(p, norm[k]!)) c.push(k);
        return c;
      });
      const got = assign(cands);
      if (!got) {
        const missing = it.lines[cands.findIndex((c) => c.length === 0)] ?? it.lines[0]!;
        return { ok: false, failure: { expectedLine: missing.line, expectedText: missing.text, actualIndex: at }, matchedUpTo: at };
      }
      at = Math.max(...got) + 1;
    }
  }
  return { ok: true, next: at };
}
