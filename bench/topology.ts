/**
 * Topology bench (not a test): the production compose stack (deploy/compose.production.yaml, with
 * bench/topology.compose.yaml lifting the per-client bounds, since the bench is one client) measured
 * through its TLS load balancer with 3 replicas, then with 1 (mcp-2 and mcp-3 stopped):
 * - WebSocket connections opened (authenticated, initialized) and how long that took;
 * - memory per connection per replica: each replica's cgroup memory with the connections open
 *   minus before, over the connections HAProxy placed on it;
 * - read-file calls per second over those connections (closed loop), p50 / p99 latency.
 * Run: `npm run bench:topology` (or `node --conditions=development bench/topology.ts`)
 * [--connections=N (default 300)] [--seconds=S (default 10)] [--inflight=N (default 32)].
 * Writes bench/results/topology-<date>.json. Client, load balancer, replicas and Keycloak share
 * this machine's cores: the figures bound what the topology costs, not what it scales to.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { ClientCredentialsTokenSource } from 'mcp-client';
import type WebSocket from 'ws';
import { allInRotation, outOfRotation, ProductionStack, type Service } from '../tests/e2e/production-stack.ts';
import { waitUntil } from '../tests/support/wait.ts';
import { createLoop, type LoopResult } from './closed-loop.ts';
import { closeWs, frameId, initialize, openWs, toolCallFrames } from './wire.ts';

const REPLICAS: readonly Service[] = ['mcp-1', 'mcp-2', 'mcp-3'];
const log = (line: string) => process.stdout.write(`${line}\n`);

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a whole number >= 1`);
  return n;
}

/** The container's memory in bytes (cgroup v2 memory.current, or v1 usage_in_bytes). */
function memoryBytes(container: string): number {
  const res = spawnSync('docker', [
    'exec',
    container,
    'sh',
    '-c',
    'cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes',
  ]);
  return Number(res.stdout.toString().trim());
}

/** One replica count's figures. */
interface TopologyRow {
  readonly replicas: number;
  readonly connections: number;
  /** Connections that failed to open or initialize, or broke later, with the distinct messages. */
  readonly failed: number;
  readonly errors: readonly string[];
  readonly openMs: number;
  readonly perReplica: { readonly replica: string; readonly connections: number; readonly kibPerConnection: number }[];
  readonly calls: LoopResult;
}

async function measure(stack: ProductionStack, token: string, replicas: readonly Service[]): Promise<TopologyRow> {
  const count = option('connections', 300);
  const before = new Map(replicas.map((r) => [r, memoryBytes(stack.container(r))]));
  const url = stack.mcpUrl.replace(/^https/, 'wss');
  const sockets: WebSocket[] = [];
  const failures: string[] = [];
  const t0 = performance.now();
  // 16 handshakes at a time: TLS at the load balancer plus token verification at the replica.
  for (let i = 0; i < count; i += 16) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(16, count - i) }, async () => {
        const ws = await openWs(url, { token });
        // A socket error after the handshake (the replica or the load balancer cut it) is counted, not fatal.
        ws.on('error', (err) => failures.push(`after open: ${err.message}`));
        await initialize(ws);
        return ws;
      }),
    );
    for (const r of batch) {
      if (r.status === 'fulfilled') sockets.push(r.value);
      else failures.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
    }
  }
  const openMs = performance.now() - t0;
  const lb = await stack.lbServers();
  const perReplica = replicas.map((r) => {
    const conns = lb.find((s) => s.server === r)?.current ?? 0;
    const grown = memoryBytes(stack.container(r)) - (before.get(r) ?? 0);
    return { replica: r, connections: conns, kibPerConnection: conns > 0 ? Math.round(grown / conns / 102.4) / 10 : 0 };
  });
  const loop = createLoop({
    inflight: option('inflight', 32),
    warmupMs: 2000,
    durationMs: option('seconds', 10) * 1000,
    maxRequests: 5_000_000,
    minBytes: 200,
  });
  const frames = toolCallFrames({ name: 'read-file', arguments: { filePath: 'sample1.txt' } });
  for (const ws of sockets) ws.on('message', (data: Buffer) => loop.complete(frameId(data), data.length));
  const calls = await loop.start((id) => sockets[id % sockets.length]?.send(frames(id)));
  await Promise.all(sockets.map((ws) => closeWs(ws)));
  return {
    replicas: replicas.length,
    connections: sockets.length,
    failed: failures.length,
    errors: [...new Set(failures)],
    openMs,
    perReplica,
    calls,
  };
}

function print(row: TopologyRow): void {
  const mem = row.perReplica
    .map((p) => `${p.replica} ${p.connections} conns ${p.kibPerConnection} KiB/conn`)
    .join('; ');
  log(
    `# topology ${row.replicas} replica(s): ${row.connections} WebSockets opened in ${(row.openMs / 1000).toFixed(1)} s ` +
      `(${row.failed} failed${row.errors.length ? `: ${row.errors.join(' | ')}` : ''}); ` +
      `${row.calls.perSecond.toFixed(0)} calls/s (p50 ${row.calls.p50.toFixed(1)} ms, p99 ${row.calls.p99.toFixed(1)} ms, ` +
      `errors ${row.calls.errors}); ${mem}`,
  );
}

const stack = await ProductionStack.create(`mcptopo${process.pid}`, ['bench/topology.compose.yaml']);
tls.setDefaultCACertificates([...tls.getCACertificates('default'), stack.caPem]);
const rows: TopologyRow[] = [];
try {
  const t0 = Date.now();
  stack.compose(['up', '-d', '--build']);
  await stack.waitHealthy(900_000);
  await waitUntil(async () => allInRotation(await stack.lbServers()), 60_000, 200, 'every server UP');
  log(`# topology: stack up and healthy in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const tokens = new ClientCredentialsTokenSource({
    issuer: stack.issuer,
    clientId: 'mcp-client',
    clientSecret: stack.secret('oauth-client-secret'),
    resource: stack.mcpUrl,
    scope: 'file.read file.list',
  });
  rows.push(await measure(stack, await tokens.getToken(), REPLICAS));
  print(rows[0] as TopologyRow);
  for (const r of REPLICAS.slice(1)) await stack.halt(r, 'stop');
  await waitUntil(
    // Out, not merely "UP 1/2": a server still going down receives connections, and HAProxy cuts
    // those without an answer when it marks the server out (on-marked-down shutdown-sessions).
    async () =>
      (await stack.lbServers()).filter((s) => s.backend === 'mcp' && outOfRotation(s.status)).length ===
      REPLICAS.length - 1,
    60_000,
    200,
    'one replica left',
  );
  rows.push(await measure(stack, await tokens.getToken({ forceRefresh: true }), REPLICAS.slice(0, 1)));
  print(rows[1] as TopologyRow);
  const file = path.resolve(
    import.meta.dirname,
    'results',
    `topology-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`,
  );
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
  log(`# topology: wrote ${path.relative(process.cwd(), file)}`);
} finally {
  stack.destroy();
}
