/**
 * Instructions per read-file 1 KiB call over Streamable HTTP, counted by valgrind (callgrind, no
 * cache simulation): steady where rates and CPU time are not (a machine shared with other work).
 * For each target, bench/inproc-http.ts runs twice under callgrind with two call counts; the
 * difference over the extra calls is what one call costs in the process (server and client). The
 * `null` target (a bare node:http server with a canned answer) is the client's and node's own
 * share; subtracted, what is left is the server's work per call (kernel work is not counted).
 * Usage: node --conditions=development bench/http-instructions.ts
 *   [--targets=null,ours-2026,ours-2025,sdk-handler] [--base=<checkout>] [--calls=300,900]
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const flags = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    return [k!, v];
  }),
);
const targets = (flags.get('targets') ?? 'null,ours-2026,ours-2025,sdk-handler').split(',');
const base = flags.get('base');
const [few, many] = (flags.get('calls') ?? '300,900').split(',').map(Number) as [number, number];
const driver = path.join(import.meta.dirname, 'inproc-http.ts');

/** Instructions callgrind counted for one run of the driver. */
async function instructions(target: string, checkout: string, calls: number): Promise<number> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=callgrind',
      '--cache-sim=no',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      '--conditions=development',
      '--no-warnings',
      driver,
      target,
      checkout,
      String(calls),
    ],
    { maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 },
  );
  const collected = /Collected : (\d+)/.exec(stderr)?.[1];
  if (collected === undefined) throw new Error(`no count from callgrind: ${stderr.slice(-500)}`);
  return Number(collected);
}

const runs = [
  ...targets.map((t) => ({ label: t, target: t, checkout: '.' })),
  ...(base === undefined
    ? []
    : ['ours-2026', 'ours-2025'].map((t) => ({ label: `base ${t}`, target: t, checkout: path.resolve(base) }))),
];
const perCall = new Map<string, number>();
for (const r of runs) {
  const [a, b] = await Promise.all([instructions(r.target, r.checkout, few), instructions(r.target, r.checkout, many)]);
  const value = (b - a) / (many - few);
  perCall.set(r.label, value);
  const floor = perCall.get('null');
  const server =
    floor === undefined || r.label === 'null' ? '' : `, server ${Math.round(value - floor).toLocaleString('en-US')}`;
  process.stdout.write(
    `${r.label.padEnd(16)} ${Math.round(value).toLocaleString('en-US')} instructions/call${server}\n`,
  );
}
