// A symlink-swap race against list-files and read-file: a helper swaps a directory inside the
// served root with a symlink to an outside directory (renameat2 RENAME_EXCHANGE, atomic) in a
// tight loop while listings run. Not one outside name, size or byte may come back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { listFilesTool } from '../../../mcp-server/src/tools/list-files.ts';
import { readFileTool } from '../../../mcp-server/src/tools/read-file.ts';
import type { ToolContext } from '../../../mcp-server/src/tools/tool-spec.ts';

const CANARY = 'CANARY-OUTSIDE';
/** Listings run (bounded in count and time: whichever comes first). */
const MAX_LISTINGS = 3000;
const MAX_MS = 25_000;
const HELPER = path.join(import.meta.dirname, '..', '..', 'support', 'rename-exchange.py');

describe('symlink-swap race (renameat2 RENAME_EXCHANGE)', () => {
  let base: string;
  let root: string;
  let swapper: ChildProcess;
  let swaps = '';

  before(async () => {
    base = mkdtempSync(path.join(tmpdir(), 'race-'));
    root = path.join(base, 'data');
    const outside = path.join(base, 'outside');
    mkdirSync(path.join(root, 'swap', 'in-sub'), { recursive: true });
    writeFileSync(path.join(root, 'swap', 'in-1'), 'inside one');
    writeFileSync(path.join(root, 'swap', 'in-sub', 'in-2'), 'inside two');
    writeFileSync(path.join(root, 'plain.txt'), 'plain');
    // Same names as inside (so a redirected open would succeed) plus canary names and contents.
    mkdirSync(path.join(outside, 'in-sub', `${CANARY}-dir`), { recursive: true });
    writeFileSync(path.join(outside, 'in-1'), `${CANARY} content one`);
    writeFileSync(path.join(outside, 'in-sub', 'in-2'), `${CANARY} content two`);
    for (let i = 0; i < 5; i++) writeFileSync(path.join(outside, `${CANARY}-${i}`), 'x'.repeat(12345));
    writeFileSync(path.join(outside, 'in-sub', `${CANARY}-deep`), '');
    symlinkSync(outside, path.join(root, 'swap-link'));
    swapper = spawn('python3', [HELPER, path.join(root, 'swap'), path.join(root, 'swap-link')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: swapper.stdout! });
    lines.on('line', (l) => {
      if (l.startsWith('swaps ')) swaps = l.slice(6);
    });
    const [first] = (await Promise.race([once(lines, 'line'), once(swapper, 'exit')])) as [unknown];
    assert.equal(first, 'ready', 'the swap helper did not start (renameat2 refused?)');
  });
  after(async () => {
    if (swapper.exitCode === null) {
      swapper.kill('SIGTERM');
      await once(swapper, 'exit');
    }
    rmSync(base, { recursive: true, force: true });
  });

  const ctx = (): ToolContext => ({
    root,
    maxFileBytes: 1 << 20,
    clientId: 'test-client',
    signal: new AbortController().signal,
    progress: async () => {},
  });
  const list = (args: Record<string, unknown>) => listFilesTool.run(listFilesTool.inputSchema.parse(args), ctx());
  const read = (filePath: string) => readFileTool.run(readFileTool.inputSchema.parse({ filePath }), ctx());

  /** Pages a recursive listing of '.'; with `resend`, uses each cursor twice (the second resumes by name). */
  async function pageAll(resend: boolean): Promise<string> {
    let text = '';
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const args = { directory: '.', recursive: true, limit: 2, ...(cursor ? { cursor } : {}) };
      if (resend && cursor) text += JSON.stringify((await list(args)).result);
      const r = await list(args);
      text += JSON.stringify(r.result);
      cursor = (r.result.structuredContent as { nextCursor?: string } | undefined)?.nextCursor;
      if (!cursor) break;
    }
    return text;
  }

  it('never returns an outside name, size, date or byte over thousands of listings', async (t) => {
    const t0 = performance.now();
    let listings = 0;
    let sawInside = 0;
    let sawLink = 0;
    let leaks = 0;
    const check = (text: string): void => {
      if (text.includes(CANARY) || text.includes('12345')) leaks++;
      if (text.includes('"swap/in-sub/in-2"')) sawInside++;
      if (text.includes('"name":"swap","type":"symlink"')) sawLink++;
    };
    for (let i = 0; listings < MAX_LISTINGS && performance.now() - t0 < MAX_MS; i++) {
      switch (i % 5) {
        case 0:
          check(JSON.stringify((await list({ directory: '.', recursive: true, limit: 5000 })).result));
          break;
        case 1:
          check(await pageAll(false));
          break;
        case 2:
          check(await pageAll(true));
          break;
        case 3:
          check(JSON.stringify((await list({ directory: 'swap', recursive: true })).result));
          // The swapped name as an intermediate component of the listed path.
          check(JSON.stringify((await list({ directory: 'swap/in-sub' })).result));
          break;
        default:
          check(
            JSON.stringify((await read('swap/in-1')).result) + JSON.stringify((await read('swap/in-sub/in-2')).result),
          );
      }
      listings++;
    }
    const ms = Math.round(performance.now() - t0);
    swapper.kill('SIGTERM');
    await once(swapper, 'exit');
    t.diagnostic(
      `listings ${listings} in ${ms} ms, swaps ${swaps}, outside leaks ${leaks}, saw inside ${sawInside}, saw link ${sawLink}`,
    );
    assert.equal(leaks, 0, `${leaks} of ${listings} listings showed outside names or contents`);
    // The race was real: the listings saw both states of the swapped name.
    assert.ok(sawInside > 0 && sawLink > 0, `inside ${sawInside}, link ${sawLink}`);
    assert.ok(Number(swaps) > 0);
    assert.ok(listings >= 500, `only ${listings} listings ran`);
  });
});
