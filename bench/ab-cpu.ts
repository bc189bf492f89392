/**
 * CPU time per call, A against B, with server and client in one process (bench/inproc-calls.ts):
 * no second process competes for the cores, so on a shared machine it is steadier than the
 * two-process figures of bench/ab.ts. Runs alternate A, B, A, B...; prints per checkout the CPU
 * (user + system, all threads, client included: the same for A and B) per call of every run,
 * the median and the least.
 * Usage: node --conditions=development bench/ab-cpu.ts --a=<checkout> --b=<checkout>
 *   [--payload=read-1k] [--calls=6000] [--rounds=4]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { spread } from './stats.ts';

const flags = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    return [k!, v];
  }),
);
const checkouts = { A: path.resolve(flags.get('a') ?? '.'), B: path.resolve(flags.get('b') ?? '.') };
const payload = flags.get('payload') ?? 'read-1k';
const calls = Number(flags.get('calls') ?? 6000);
const rounds = Number(flags.get('rounds') ?? 4);
const driver = path.join(import.meta.dirname, 'inproc-calls.ts');
/** Calls the driver makes before the counted ones (its warm-up). */
const WARMUP = 500;

/** CPU µs per call of one driver run (process CPU over every call it made, warm-up included). */
async function cpuPerCall(checkout: string): Promise<number> {
  // The audit log goes to /dev/null, as in the bench; the CPU figure comes back on stderr.
  const child = spawn(
    process.execPath,
    [
      '--conditions=development',
      '--no-warnings',
      '--input-type=module',
      '-e',
      `const t=process.cpuUsage();process.on('exit',()=>{const c=process.cpuUsage(t);console.error('cpu-us',c.user+c.system)});` +
        `process.argv.splice(1,0,${JSON.stringify(driver)});await import(${JSON.stringify(driver)});`,
      checkout,
      payload,
      String(calls),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const us = /cpu-us (\d+)/.exec(stderr)?.[1];
  if (code !== 0 || us === undefined) throw new Error(`driver failed (${code}): ${stderr.slice(-500)}`);
  return Number(us) / (calls + WARMUP);
}

const figures: Record<string, number[]> = { A: [], B: [] };
for (let round = 0; round < rounds; round++) {
  for (const name of round % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
    figures[name]!.push(await cpuPerCall(checkouts[name as 'A' | 'B']));
  }
}
for (const [name, xs] of Object.entries(figures)) {
  process.stdout.write(
    `${payload} ${name}: ${spread(xs).median.toFixed(1)} µs/call median, ${Math.min(...xs).toFixed(1)} least ` +
      `(${xs.map((x) => x.toFixed(0)).join(' ')}) ${checkouts[name as 'A' | 'B']}\n`,
  );
}
