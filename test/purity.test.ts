// test/purity.test.ts — core/ stays pure: no clock, no randomness, no timers, no async, no
// Node, no imports out of core/, no import cycles.
//
// Owns: the purity checker (checkPurity, findImportCycles) and its proof on planted
// violations in test/fixtures/purity/. The checker walks the TypeScript AST, so comments,
// strings and property names that merely look forbidden are not reported.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

export type PurityRule =
  | 'Date'
  | 'Math.random'
  | 'performance'
  | 'crypto.random'
  | 'setTimeout'
  | 'setInterval'
  | 'setImmediate'
  | 'queueMicrotask'
  | 'process'
  | 'async'
  | 'await'
  | 'Promise'
  | 'dynamic-import'
  | 'node-import'
  | 'outside-import';

export interface Violation {
  /** Absolute path of the offending file. */
  file: string;
  line: number;
  rule: PurityRule;
  text: string;
}

/** Globals whose mere mention in core is forbidden (they are clocks, timers, I/O or async). */
const FORBIDDEN_GLOBALS: ReadonlyMap<string, PurityRule> = new Map<string, PurityRule>([
  ['Date', 'Date'],
  ['performance', 'performance'],
  ['setTimeout', 'setTimeout'],
  ['clearTimeout', 'setTimeout'],
  ['setInterval', 'setInterval'],
  ['clearInterval', 'setInterval'],
  ['setImmediate', 'setImmediate'],
  ['clearImmediate', 'setImmediate'],
  ['queueMicrotask', 'queueMicrotask'],
  ['process', 'process'],
  ['Promise', 'Promise'],
]);
const GLOBAL_OBJECTS = new Set(['globalThis', 'window', 'global', 'self']);
const NODE_BUILTINS = new Set(builtinModules);

export function listSourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSourceFiles(path));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function parse(file: string): ts.SourceFile {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, kind);
}

/** Is this identifier a name of a member/property rather than a reference to a variable? */
function isMemberName(id: ts.Identifier): boolean {
  const p = id.parent;
  if (!p) return false;
  if (ts.isPropertyAccessExpression(p)) return p.name === id;
  if (ts.isQualifiedName(p)) return p.right === id;
  if (ts.isBindingElement(p)) return p.propertyName === id;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) return p.propertyName === id;
  if (
    ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) ||
    ts.isMethodDeclaration(p) || ts.isMethodSignature(p) || ts.isGetAccessorDeclaration(p) ||
    ts.isSetAccessorDeclaration(p) || ts.isEnumMember(p) || ts.isPropertyAccessChain(p)
  ) {
    return (p as { name?: ts.Node }).name === id;
  }
  return ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p);
}

/** `obj.name` or `obj['name']` → [obj, 'name']; anything else → null. */
function memberAccess(node: ts.Node): [ts.Expression, string] | null {
  if (ts.isPropertyAccessExpression(node)) return [node.expression, node.name.text];
  if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
    return [node.expression, node.argumentExpression.text];
  }
  return null;
}

function isGlobalObject(e: ts.Expression): boolean {
  return ts.isIdentifier(e) && GLOBAL_OBJECTS.has(e.text);
}

/** Classify an import specifier seen in `file`; null if allowed. */
function importRule(spec: string, file: string, root: string): PurityRule | null {
  if (spec.startsWith('node:')) return 'node-import';
  const head = spec.split('/')[0]!;
  if (NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(head)) return 'node-import';
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = resolve(dirname(file), spec);
    const rel = relative(root, target);
    if (rel.startsWith('..') || rel.startsWith(sep) || resolve(root, rel) !== target) return 'outside-import';
  }
  return null;
}

/** Every module specifier in a source file, with the node it appears at. */
function importSpecifiers(sf: ts.SourceFile): Array<{ spec: string; node: ts.Node; dynamic: boolean }> {
  const out: Array<{ spec: string; node: ts.Node; dynamic: boolean }> = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier &&
      ts.isStringLiteralLike(node.moduleSpecifier)) {
      out.push({ spec: node.moduleSpecifier.text, node, dynamic: false });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteralLike(node.moduleReference.expression)) {
      out.push({ spec: node.moduleReference.expression.text, node, dynamic: false });
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword) {
        out.push({ spec: (node.arguments[0] as ts.StringLiteralLike).text, node, dynamic: true });
      } else if (ts.isIdentifier(callee) && callee.text === 'require') {
        out.push({ spec: (node.arguments[0] as ts.StringLiteralLike).text, node, dynamic: false });
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteralLike(node.argument.literal)) {
      out.push({ spec: node.argument.literal.text, node, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Check one file; `root` is the directory imports must stay inside. */
export function checkFile(file: string, root: string): Violation[] {
  const sf = parse(file);
  const found: Violation[] = [];
  const report = (node: ts.Node, rule: PurityRule): void => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    const text = sf.text.split('\n')[line - 1]!.trim();
    found.push({ file, line, rule, text });
  };

  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && !isMemberName(node)) {
      const rule = FORBIDDEN_GLOBALS.get(node.text);
      if (rule) report(node, rule);
    }
    const member = memberAccess(node);
    if (member) {
      const [obj, name] = member;
      if (ts.isIdentifier(obj) && obj.text === 'Math' && name === 'random') report(node, 'Math.random');
      const isCrypto = (ts.isIdentifier(obj) && obj.text === 'crypto') ||
        (memberAccess(obj)?.[1] === 'crypto' && isGlobalObject(memberAccess(obj)![0]));
      if (isCrypto && (name.startsWith('random') || name === 'getRandomValues')) report(node, 'crypto.random');
      if (isGlobalObject(obj)) {
        const rule = FORBIDDEN_GLOBALS.get(name);
        if (rule) report(node, rule);
      }
    }
    if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) {
      report(node, 'async');
    }
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) report(node, 'await');
    ts.forEachChild(node, visit);
  };
  visit(sf);

  for (const { spec, node, dynamic } of importSpecifiers(sf)) {
    if (dynamic) report(node, 'dynamic-import');
    const rule = importRule(spec, file, root);
    if (rule) report(node, rule);
  }

  // One report per (line, rule): `new Date()` on a line with `Date` in a type is one finding.
  const seen = new Set<string>();
  return found.filter((v) => {
    const key = `${v.line}:${v.rule}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Every violation in every .ts/.tsx file under `root`, sorted by file and line. */
export function checkPurity(root: string): Violation[] {
  return listSourceFiles(root)
    .flatMap((f) => checkFile(f, root))
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
}

function resolveLocal(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Import cycles among the files under `root` (relative imports, type-only ones included).
 *  Each cycle is listed once, as root-relative paths starting at its smallest member. */
export function findImportCycles(root: string): string[][] {
  const files = listSourceFiles(root);
  const edges = new Map<string, string[]>();
  for (const f of files) {
    const targets = importSpecifiers(parse(f))
      .filter(({ spec }) => spec.startsWith('.'))
      .map(({ spec }) => resolveLocal(f, spec))
      .filter((t): t is string => t !== null && files.includes(t));
    edges.set(f, [...new Set(targets)].sort());
  }
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const dfs = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of edges.get(f) ?? []) {
      if (state.get(t) === 'open') {
        const cycle = stack.slice(stack.indexOf(t)).map((p) => relative(root, p));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(' -> '), canonical);
      } else if (!state.has(t)) {
        dfs(t);
      }
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) dfs(f);
  return [...cycles.values()];
}

// ------------------------------------------------------------------------------------ tests

const REPO = resolve(dirname(new URL(import.meta.url).pathname), '..');
const CORE = join(REPO, 'core');
const FIXTURES = join(REPO, 'test', 'fixtures', 'purity');

const show = (vs: Violation[]): string[] => vs.map((v) => `${relative(REPO, v.file)}:${v.line}: ${v.rule}: ${v.text}`);

describe('purity checker on planted violations', () => {
  const violations = checkPurity(FIXTURES);
  const reported = violations.map((v) => `${relative(FIXTURES, v.file)}:${v.line}:${v.rule}`).sort();

  it('reports exactly the lines marked VIOLATION, with the marked rule', () => {
    const expected: string[] = [];
    for (const file of listSourceFiles(FIXTURES)) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const m of line.matchAll(/VIOLATION: (\S+)/g)) expected.push(`${relative(FIXTURES, file)}:${i + 1}:${m[1]}`);
      });
    }
    expect(expected.length).toBeGreaterThan(30);
    expect(reported).toEqual(expected.sort());
  });

  it('reports every uses-*/imports-* fixture, and nothing in the look-alikes or the import graphs', () => {
    const files = listSourceFiles(FIXTURES).map((f) => relative(FIXTURES, f));
    const flagged = new Set(violations.map((v) => relative(FIXTURES, v.file)));
    const planted = files.filter((f) => /^(uses|imports)-/.test(f));
    expect(planted.length).toBeGreaterThanOrEqual(17);
    expect(planted.filter((f) => !flagged.has(f))).toEqual([]);
    expect([...flagged].filter((f) => !/^(uses|imports)-/.test(f))).toEqual([]);
  });

  it('covers every rule', () => {
    const rules = new Set(violations.map((v) => v.rule));
    const all: PurityRule[] = ['Date', 'Math.random', 'performance', 'crypto.random', 'setTimeout', 'setInterval',
      'setImmediate', 'queueMicrotask', 'process', 'async', 'await', 'Promise', 'dynamic-import', 'node-import',
      'outside-import'];
    expect(all.filter((r) => !rules.has(r))).toEqual([]);
  });

  it('finds the planted import cycle and nothing in the diamond', () => {
    expect(findImportCycles(FIXTURES)).toEqual([['cycle/a.ts', 'cycle/b.ts', 'cycle/c.ts']]);
  });
});

describe('core/ is pure', () => {
  it('has source files to check', () => {
    expect(listSourceFiles(CORE).length).toBeGreaterThan(3);
  });

  it('uses no clock, randomness, timers, async, process, Node, or imports out of core/', () => {
    expect(show(checkPurity(CORE))).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(findImportCycles(CORE).map((c) => c.join(' -> '))).toEqual([]);
  });
});
