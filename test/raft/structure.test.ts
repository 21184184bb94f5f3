// test/raft/structure.test.ts — core/raft stays readable: node.ts under 1,000 lines, no function
// (or method) over 70 lines, and the majority maths only in quorum.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '../../core/raft');
const MAX_FUNCTION_LINES = 70;

function longFunctions(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const start = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      const name = (n as { name?: ts.Node }).name?.getText(sf) ?? '(anonymous)';
      if (end - start + 1 > MAX_FUNCTION_LINES) out.push(`${file}:${start + 1} ${name} has ${end - start + 1} lines`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('core/raft structure', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.ts')).map((f) => join(DIR, f));

  it(`no function is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(files.flatMap(longFunctions)).toEqual([]);
  });

  it('node.ts is under 1,000 lines', () => {
    expect(readFileSync(join(DIR, 'node.ts'), 'utf8').split('\n').length).toBeLessThan(1000);
  });

  it('majorities are computed in quorum.ts only', () => {
    const copies = files.filter((f) => !f.endsWith('quorum.ts') && /\/\s*2\)\s*\+\s*1/.test(readFileSync(f, 'utf8')));
    expect(copies).toEqual([]);
  });
});
