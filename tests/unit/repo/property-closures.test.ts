// No function literal is assigned straight to a property in the server's code. V8's parser takes
// `obj.prop = (...) => ...` (or `= function`) for a method and allocates the closure in the old
// generation; a per-connection or per-request closure made that way holds its context, and all it
// reaches, through every young collection until the next full one. Measured: a scavenge every
// ~120 sequential handshakes copied every connection closed since the last (1.5 MB, 3 ms). Made
// first and then assigned (`const f = ...; obj.prop = f`), the closure is allocated young.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

const repo = path.resolve(import.meta.dirname, '../../..');
const ROOTS = ['mcp-server/src', 'common/src'];

/** `a.b = (x) => ...`, `a.#b ??= async () => ...`, `a[b].c = function ...`; not `===` or a declaration. */
const ASSIGNED_LITERAL =
  /[\w$\])]\.[#\w$]+\s*(?:\?\?|\|\||&&)?=(?![=>])\s*(?:async\s+)?(?:function\b|\((?:[^()]|\([^()]*\))*\)\s*(?::[^=;{]+)?=>|[\w$]+\s*=>)/g;

/** Source text without comments (a comment may quote the pattern). */
const withoutComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

/** The lines of `source` that assign a function literal straight to a property. */
function assignedLiterals(source: string): string[] {
  const text = withoutComments(source);
  return [...text.matchAll(ASSIGNED_LITERAL)].map((m) => {
    const line = text.slice(0, m.index).split('\n').length;
    return `${line}: ${m[0].split('\n')[0]}`;
  });
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

test('the check finds a literal assigned to a property, in every form, and nothing else', () => {
  const flagged = [
    'transport.onmessage = (message, extra) => entry.receive(message);',
    'sink.onAnswer = (answer: JSONRPCMessage) => {',
    'res.write = function (this: ServerResponse, chunk: unknown) {',
    'this.#reply = async () => undefined;',
    'x.y ??= value => value;',
    'a[b].c = (\n  first,\n  second,\n) => first;',
  ];
  for (const line of flagged) assert.equal(assignedLiterals(line).length, 1, line);
  const allowed = [
    'const onmessage = (message) => entry.receive(message);',
    'transport.onmessage = onmessage;',
    'readonly #reply = (response) => this.#send(response);',
    'if (a.b === (c) => c) {}',
    'ws.once("close", () => transports.delete(ws));',
    'const o = { take: (m) => m };',
    '// transport.onmessage = (m) => m;',
    'x.y = value >= 1;',
  ];
  for (const line of allowed) assert.deepEqual(assignedLiterals(line), [], line);
});

test("the server's code assigns no function literal straight to a property", async () => {
  const found: string[] = [];
  for (const root of ROOTS) {
    for (const file of await sources(path.join(repo, root))) {
      for (const hit of assignedLiterals(await readFile(file, 'utf8')))
        found.push(`${path.relative(repo, file)}:${hit}`);
    }
  }
  assert.deepEqual(found, [], 'make the closure first, then assign it (see the comment at the top of this file)');
});
