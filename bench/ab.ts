/**
 * A/B comparison of two versions of the server on the same rows, interleaved so that load from
 * other work on the machine falls on both alike: `node --conditions=development bench/ab.ts
 * --a=<checkout> --b=<checkout> [--rows=read-1k/32,read-1k/1,list-10/32] [--rounds=5] [--ms=1000]
 * [--a-flags="--max-semi-space-size=8"] [--b-flags=...]` (node flags of either server, space-separated).
 * A checkout is a directory holding this repository (e.g. a `git worktree` of an older commit with
 * a `node_modules` symlink); `.` is this one. Each round runs every row once on A, then on B (the
 * order alternates by round). Prints per row the median calls/s, p50 and server CPU time per call
 * (user + system of the server process, all its threads: steadier than rates on a busy machine; the
 * least over the rounds is the figure other work on the machine disturbs least, since it only adds).
 */
import path from 'node:path';
import { type Child, startChild } from './child.ts';
import type { LoopResult } from './closed-loop.ts';
import { createDataset } from './dataset.ts';
import { startLocalIssuer } from './local-issuer.ts';
import { PAYLOADS } from './rows.ts';
import type { StartedServer } from './server-process.ts';
import { spread } from './stats.ts';

const flags = new Map(
  process.argv.slice(2).map((a) => {
    const [k = '', ...rest] = a.replace(/^--/, '').split('=');
    const v = rest.join('=');
    return [k, v];
  }),
);
const checkouts = ['a', 'b'].map((k) => path.resolve(flags.get(k) ?? '.'));
const rows = (flags.get('rows') ?? 'read-1k/32,read-1k/1,list-10/32').split(',').map((r) => {
  const [payload, inflight] = r.split('/');
  const p = PAYLOADS.find((x) => x.id === payload);
  if (!p) throw new TypeError(`unknown payload ${payload}`);
  return { payload: p, inflight: Number(inflight ?? 32) };
});
const rounds = Number(flags.get('rounds') ?? 5);
const ms = Number(flags.get('ms') ?? 1000);
const modern = flags.has('modern');

const issuer = await startLocalIssuer();
const dataset = await createDataset();
const children: Child[] = [];
try {
  const token = await issuer.sign('bench-ab', 3600);
  const servers: { child: Child; server: StartedServer }[] = [];
  for (const [i, root] of checkouts.entries()) {
    const nodeFlags = flags.get(`${'ab'[i]}-flags`);
    const child = startChild(new URL('./server-process.ts', import.meta.url), {
      stdout: 'ignore',
      ...(nodeFlags ? { execArgv: nodeFlags.split(' ') } : {}),
      env: { ...process.env, BENCH_SERVER_ROOT: root },
    });
    children.push(child);
    const server = await child.call<StartedServer>('start', {
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: dataset.root,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_AUDIENCE: 'mcp-server',
      LOG_LEVEL: 'info',
      MAX_IN_FLIGHT_PER_CONNECTION: '1000000',
      MAX_IN_FLIGHT_PER_CLIENT: '1000000',
      RATE_LIMIT_CALLS_PER_SECOND: '1000000000',
      RATE_LIMIT_BURST: '1000000000',
    });
    servers.push({ child, server });
  }
  const load = startChild(new URL('./load-ws.ts', import.meta.url));
  children.push(load);
  const figures = new Map<string, { rate: number[]; p50: number[]; cpu: number[] }>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const row of rows) {
      for (const i of order) {
        const { child, server } = servers[i]!;
        const cpu0 = await child.call<number>('cpu');
        const r = await load.call<LoopResult>('run', {
          url: server.wsUrl,
          token,
          initialize: !modern,
          modern,
          call: row.payload.call,
          inflight: row.inflight,
          warmupMs: 200,
          durationMs: ms,
          maxRequests: 1_000_000,
        });
        const cpu = (await child.call<number>('cpu')) - cpu0;
        const key = `${row.payload.id}/${row.inflight} ${'AB'[i]}`;
        const f = figures.get(key) ?? { rate: [], p50: [], cpu: [] };
        // CPU over the warm-up and drain too: divide by every call answered in the run.
        const calls = r.count + (r.perSecond > 0 ? (r.perSecond * 200) / 1000 : 0);
        f.rate.push(r.perSecond);
        f.p50.push(r.p50);
        f.cpu.push(cpu / Math.max(1, calls));
        figures.set(key, f);
      }
    }
    process.stdout.write(`round ${round + 1}/${rounds}\n`);
  }
  process.stdout.write(`A = ${checkouts[0]}\nB = ${checkouts[1]}\n`);
  for (const [key, f] of figures) {
    const med = (xs: number[]) => spread(xs).median;
    process.stdout.write(
      `${key.padEnd(16)} ${Math.round(med(f.rate)).toString().padStart(7)} calls/s  p50 ${med(f.p50).toFixed(3)} ms  ` +
        `cpu ${med(f.cpu).toFixed(1)} µs/call (least ${Math.min(...f.cpu).toFixed(1)})  ` +
        `(rates ${f.rate.map((x) => Math.round(x)).join(' ')})\n`,
    );
  }
} finally {
  await Promise.allSettled(children.map((c) => c.stop()));
  await issuer.close();
  await dataset.remove();
}
