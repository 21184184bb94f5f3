// sim/scenario/shell.ts — splitting a scenario's shell line into words, as sh would.
//
// Owns: quotes ('…', "…" with \" \\ \$ escapes), backslash escapes, and redirections
// (`>`, `>>`, `<<TAG`) as separate words. Durations like `10s`.
// Must never: expand variables, globs or run anything; a scenario names exactly what runs.

export class ShellSyntaxError extends Error {}

export interface Word {
  text: string;
  /** True when any part was quoted (so `'>'` is not a redirection). */
  quoted: boolean;
}

export function splitWords(line: string): Word[] {
  const words: Word[] = [];
  let cur = '';
  let have = false;
  let quoted = false;
  const push = (): void => {
    if (have) words.push({ text: cur, quoted });
    cur = '';
    have = false;
    quoted = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      push();
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError(`unterminated single quote at column ${i + 1}`);
      cur += line.slice(i + 1, end);
      have = true;
      quoted = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) {
          cur += line[j + 1];
          j++;
        } else cur += line[j];
      }
      if (j >= line.length) throw new ShellSyntaxError(`unterminated double quote at column ${i + 1}`);
      have = true;
      quoted = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < line.length) cur += line[++i];
      have = true;
    } else if (c === '>' || c === '<') {
      push();
      if (c === '>' && line[i + 1] === '>') {
        words.push({ text: '>>', quoted: false });
        i++;
      } else if (c === '<' && line[i + 1] === '<') {
        let j = i + 2;
        if (line[j] === '-') j++;
        while (line[j] === ' ') j++;
        const m = /^(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(line.slice(j));
        if (!m) throw new ShellSyntaxError(`'<<' must be followed by a heredoc tag, e.g. <<EOF`);
        words.push({ text: `<<${m[2]}`, quoted: false });
        i = j + m[0].length - 1;
      } else {
        words.push({ text: c, quoted: false });
      }
    } else {
      cur += c;
      have = true;
    }
  }
  push();
  return words;
}

/** '10s', '500ms', '2m', '1.5s' → milliseconds; null when not a duration. */
export function parseDurationMs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2];
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}
