// test/config/hcl.test.ts — the HCL grammar (core/config/hcl.ts) and the JSON parser, including
// hostile input: every failure is one ConfigError with file:line:col, never a throw.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseHcl } from '../../core/config/hcl.ts';
import { parseJsonTree } from '../../core/config/json.ts';
import { toPlain } from '../../core/config/tree.ts';

function plain(text: string): unknown {
  const r = parseHcl(text, 't.hcl');
  if (!r.ok) throw new Error(r.error.message);
  return toPlain(r.body);
}
function error(text: string): string {
  const r = parseHcl(text, 't.hcl');
  if (r.ok) throw new Error('expected a parse error');
  expect(r.error.message).not.toContain('\n');
  return r.error.message;
}

describe('HCL grammar', () => {
  it('attributes: strings, numbers, bools, lists with trailing commas', () => {
    expect(plain('a = "x"\nb = 42\nc = -1.5e2\nd = 0x1F\ne = true\nf = false\ng = ["p", "q",]\nh = []')).toEqual({
      a: 'x', b: 42, c: -150, d: 31, e: true, f: false, g: ['p', 'q'], h: [],
    });
  });

  it('blocks, nested blocks, object literals, labelled blocks, repeated blocks become a list', () => {
    expect(plain('ports { dns = 53 }')).toEqual({ ports: { dns: 53 } });
    expect(plain('a { b { c = 1 } }')).toEqual({ a: { b: { c: 1 } } });
    expect(plain('m = { k = "v", n = 2 }')).toEqual({ m: { k: 'v', n: 2 } });
    expect(plain('key "foo/" { policy = "read" }')).toEqual({ key: { 'foo/': { policy: 'read' } } });
    expect(plain('service { name = "a" }\nservice { name = "b" }')).toEqual({ service: [{ name: 'a' }, { name: 'b' }] });
    expect(plain('"quoted key" = 1')).toEqual({ 'quoted key': 1 });
  });

  it('comments: #, // and /* */ (multi-line)', () => {
    expect(plain('# one\na = 1 // two\n/* three\n still */ b = 2')).toEqual({ a: 1, b: 2 });
  });

  it('string escapes (Go), ${…} kept verbatim', () => {
    expect(plain(String.raw`a = "t\tn\nq\"b\\u\u00e9U\U0001F600x\x41o\101"`)).toEqual({ a: 't\tn\nq"b\\uéU😀xAoA' });
    expect(plain('a = "${lookup(x, "k")}"')).toEqual({ a: '${lookup(x, "k")}' });
  });

  it('heredocs: <<EOF keeps the text, <<-EOF strips the common indentation', () => {
    expect(plain('a = <<EOF\nline 1\n  line 2\nEOF\nb = 1')).toEqual({ a: 'line 1\n  line 2\n', b: 1 });
    expect(plain('a = <<-EOT\n    x\n      y\n    EOT\n')).toEqual({ a: 'x\n  y\n' });
  });

  it('a file starting with { is JSON, as HCL itself does', () => {
    expect(plain('  {"a": {"b": [1, 2]}}')).toEqual({ a: { b: [1, 2] } });
  });

  it('errors carry file:line:col and say what to fix', () => {
    expect(error('a = "x')).toBe('t.hcl:1:5: string is never closed with "');
    expect(error('a = "x\ny"')).toBe('t.hcl:1:5: string is not closed before the end of the line (use a heredoc <<EOF for several lines)');
    expect(error('a = 1\nb = ')).toBe("t.hcl:2:5: expected a value, found the end of the file");
    expect(error('a = x')).toBe('t.hcl:1:5: unquoted value "x"; strings need double quotes ("x")');
    expect(error('a: 1')).toBe("t.hcl:1:2: unexpected ':'; HCL assigns with '=' (key = value)");
    expect(error('a {\n b = 1\n')).toBe("t.hcl:1:3: block '{' is never closed with '}'");
    expect(error('a = [1 2]')).toBe("t.hcl:1:8: expected ',' or ']' in the list, found the number 2");
    expect(error('a = "\\q"')).toBe('t.hcl:1:6: unknown escape \\q (use \\\\ for a backslash)');
    expect(error('/* open')).toBe('t.hcl:1:1: comment /* is never closed with */');
    expect(error('a = <<EOF\nno end')).toBe('t.hcl:1:5: heredoc is never closed with a line holding only EOF');
    expect(error('a = 08')).toBe('t.hcl:1:5: malformed octal number "08"');
    expect(error('}')).toBe("t.hcl:1:1: unexpected '}' with no open block");
    expect(error('a "x" = 1')).toContain('labels belong to a block');
    expect(error('a = ' + '['.repeat(200))).toContain('nested deeper than 64 levels');
  });
});

describe('JSON parser', () => {
  const err = (t: string): string => {
    const r = parseJsonTree(t, 'c.json');
    if (r.ok) throw new Error('expected an error');
    return r.error.message;
  };
  it('keeps duplicate keys and positions; refuses what JSON refuses', () => {
    const r = parseJsonTree('{"a": 1,\n "a": 2}', 'c.json');
    expect(r.ok && r.body.entries.map((e) => [e.key, e.keyPos.line, e.keyPos.col])).toEqual([['a', 1, 2], ['a', 2, 2]]);
    expect(err('{"a": 1,}')).toBe("c.json:1:9: invalid JSON: trailing comma before '}' (JSON allows none)");
    expect(err('{"a": 01}')).toBe('c.json:1:7: invalid JSON: malformed number "01"');
    expect(err('{"a": "\\ud800"}')).toContain('lone surrogate');
    expect(err('')).toContain('the file is empty');
    expect(err('{"a": [' + '['.repeat(100))).toContain('nested deeper than 64 levels');
  });
});

describe('hostile input never throws', () => {
  const pieces = ['{', '}', '[', ']', '=', ',', '"', '\\', 'a', ' ', '\n', '#', '//', '/*', '*/', '<<EOF', 'EOF', '0x', '-', '1', 'true', '${', '\u0000', 'é', ':'];
  const hostile = fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((a) => a.join(''));
  it('HCL: a tree or one positioned ConfigError line', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string({ maxLength: 80 })), (text) => {
        const r = parseHcl(text, 'f.hcl');
        if (!r.ok) {
          expect(r.error.message).toMatch(/^f\.hcl(:\d+:\d+)?: /);
          expect(r.error.message).not.toMatch(/[\n\r]/);
        }
      }),
      { numRuns: 3000, seed: 15 },
    );
  });
  it('JSON: a tree or one positioned ConfigError line', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string({ maxLength: 80 }), fc.json().map((j) => j.slice(0, j.length - 1))), (text) => {
        const r = parseJsonTree(text, 'f.json');
        if (!r.ok) expect(r.error.message).toMatch(/^f\.json:\d+:\d+: invalid JSON: [^\n\r]*$/);
        else expect(toPlain(r.body)).toEqual(JSON.parse(text));
      }),
      { numRuns: 3000, seed: 15 },
    );
  });
});
