/** Renders BENCHMARKS.md and the latency chart from a {@link Results}. Pure: returns strings. */
import { lineChart } from './chart-svg.ts';
import type { LoadAverage, Results, RowResult } from './results.ts';
import { CHART_INFLIGHT, CHART_PAYLOAD, PAYLOADS, TARGETS } from './rows.ts';
import type { Spread } from './stats.ts';

const num = (v: number, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';
const ms = (v: number) => (Number.isFinite(v) ? (v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1)) : '—');
const ratePair = (s: Spread) => `${num(s.median)} (${num(s.min)}–${num(s.max)})`;
const msPair = (s: Spread) => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;

function find(results: Results, target: string, payload: string, inflight: number): RowResult | undefined {
  return results.rows.find((r) => r.target === target && r.payload === payload && r.inflight === inflight);
}

/** The chart: p50 against requests in flight, read-file 1 KiB, one line per target. */
export function latencyChart(results: Results): string {
  const present = TARGETS.filter((t) => results.rows.some((r) => r.target === t.id));
  const series = present.map((t) => ({
    label: t.label,
    values: CHART_INFLIGHT.map((n) => find(results, t.id, CHART_PAYLOAD, n)?.stats.p50.median ?? Number.NaN),
  }));
  return lineChart(series, {
    title: 'read-file 1 KiB: p50 latency vs requests in flight',
    x: [...CHART_INFLIGHT],
    xLabel: 'requests in flight (one connection / one session)',
    yLabel: 'p50 latency, ms (log scale)',
  });
}

interface Goal {
  readonly goal: string;
  readonly met: boolean | undefined;
  readonly figures: string;
}

function goals(results: Results): Goal[] {
  const out: Goal[] = [];
  for (const payload of ['list-10', 'read-1k']) {
    const label = PAYLOADS.find((p) => p.id === payload)?.label ?? payload;
    const s32 = find(results, 'server-ws', payload, 32)?.stats;
    const e32 = find(results, 'echo', payload, 32)?.stats;
    const h32 = find(results, 'sdk-http', payload, 32)?.stats;
    const s1 = find(results, 'server-ws', payload, 1)?.stats;
    const e1 = find(results, 'echo', payload, 1)?.stats;
    if (s32 && e32) {
      const r = s32.perSecond.median / e32.perSecond.median;
      out.push({
        goal: `${label}: 32 in flight ≥ 70% of the echo rate`,
        met: r >= 0.7,
        figures: `${num(s32.perSecond.median)} vs ${num(e32.perSecond.median)} calls/s = ${num(r * 100)}%`,
      });
    }
    if (s1 && e1) {
      const r = s1.p50.median / e1.p50.median;
      out.push({
        goal: `${label}: 1 in flight p50 within 1.2x of echo p50`,
        met: r <= 1.2,
        figures: `${ms(s1.p50.median)} vs ${ms(e1.p50.median)} ms = ${r.toFixed(2)}x`,
      });
    }
    if (s32 && h32) {
      const r = s32.perSecond.median / h32.perSecond.median;
      out.push({
        goal: `${label}: ≥ 15x the Streamable HTTP peer at 32 in flight`,
        met: r >= 15,
        figures: `${num(s32.perSecond.median)} vs ${num(h32.perSecond.median)} calls/s = ${r.toFixed(1)}x`,
      });
    }
  }
  const conns = results.connections?.at(-1);
  if (conns) {
    out.push({
      goal: '10k concurrent connections, memory per connection reported',
      met: conns.connections >= 10_000 && conns.failed === 0,
      figures:
        `${num(conns.connections)} opened in ${num(conns.openMs.median / 1000, 1)} s, ` +
        `${num(conns.rssPerConnection.median / 1024, 1)} KiB RSS per connection, ${conns.failed} failed`,
    });
  }
  if (results.handshake) {
    out.push({
      goal: 'handshake p99 < 5 ms',
      met: results.handshake.p99.median < 5,
      figures: `p50 ${ms(results.handshake.p50.median)} ms, p99 ${ms(results.handshake.p99.median)} ms`,
    });
  }
  return out;
}

/** Data-driven remarks: a rate that falls as requests in flight rise points at a stall, not at CPU. */
function observations(results: Results): string[] {
  const out: string[] = [];
  for (const t of TARGETS) {
    const at16 = find(results, t.id, CHART_PAYLOAD, 16)?.stats;
    const at32 = find(results, t.id, CHART_PAYLOAD, 32)?.stats;
    if (at16 && at32 && at32.perSecond.median < 0.8 * at16.perSecond.median) {
      out.push(
        `- ${t.label}: read-file 1 KiB at 32 in flight (${num(at32.perSecond.median)} calls/s, p50 ${ms(at32.p50.median)} ms) ` +
          `is slower than at 16 (${num(at16.perSecond.median)} calls/s): requests wait on something other than CPU ` +
          '(a per-connection in-flight cap or a timer); `npm run bench -- --profile` shows the idle share.',
      );
    }
  }
  return out.length > 0 ? ['', '**Observations**', '', ...out] : [];
}

function throughputTable(results: Results): string[] {
  const lines = [
    '| call | target | in flight | calls/s | p50 ms | p99 ms | MB/s | response bytes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results.rows) {
    const reads = r.payload.startsWith('read');
    lines.push(
      `| ${r.payloadLabel} | ${r.targetLabel} | ${r.inflight} | ${ratePair(r.stats.perSecond)} | ${msPair(r.stats.p50)} | ` +
        `${msPair(r.stats.p99)} | ${reads ? num(r.stats.mbPerSecond.median, 1) : '—'} | ${num(r.responseBytes)} |`,
    );
  }
  return lines;
}

function connectionTable(results: Results): string[] {
  if (!results.connections) return ['Not measured in this run.'];
  const lines = [
    '| connections | time to open s | RSS per connection KiB | heap per connection KiB | calls/s spread over them | p50 ms | p99 ms | failed |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of results.connections) {
    const kib = (s: Spread) => `${num(s.median / 1024, 1)} (${num(s.min / 1024, 1)}–${num(s.max / 1024, 1)})`;
    lines.push(
      `| ${num(c.connections)} | ${num(c.openMs.median / 1000, 2)} (${num(c.openMs.min / 1000, 2)}–${num(c.openMs.max / 1000, 2)}) | ` +
        `${kib(c.rssPerConnection)} | ${kib(c.heapPerConnection)} | ${ratePair(c.callsPerSecond)} | ${msPair(c.p50)} | ${msPair(c.p99)} | ` +
        `${c.failed}${c.error ? ` (${c.error.slice(0, 80)})` : ''} |`,
    );
  }
  return lines;
}

function tokenSection(results: Results): string[] {
  const t = results.tokenTraffic;
  if (!t) return ['Not measured in this run.'];
  if (!t.measured) return [`Not measured: ${t.reason}`];
  return [
    `Over ${t.seconds} s with ${t.lifetimeSeconds} s tokens, the client library made **${t.tokenRequests}** token-endpoint ` +
      `requests (expected at most ${t.expected}: one per token lifetime started within the run); ${t.calls} calls succeeded, ${t.failedCalls} failed, ` +
      `${t.reconnects} reconnects (server closes with 4401 at exp).`,
  ];
}

/** `1-min / 5-min / 15-min` load averages. */
const loads = (l: LoadAverage): string => [l.m1, l.m5, l.m15].map((x) => x.toFixed(2)).join(' / ');

/** BENCHMARKS.md for `results`; `resultsFile` and `chartFile` are linked relative to the repo root. */
export function renderMarkdown(results: Results, resultsFile: string, chartFile: string): string {
  const m = results.meta;
  const hs = results.handshake;
  const out = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${m.date}. Raw figures: [${resultsFile}](${resultsFile}).`,
    '',
    `**Machine:** ${m.cores} cores, ${m.cpuModel}, ${m.os}, Node ${m.node}, open-files limit ${m.maxOpenFiles}.`,
    `**Settings:** ${m.reps} repetitions per row (interleaved: every row once, then again), ${m.warmupMs} ms warm-up + ` +
      `${m.durationMs} ms measured window each; server log level \`${m.serverLogLevel}\` (audit log written to /dev/null).` +
      (m.quick ? ' **Quick run: figures are indicative only.**' : ''),
    ...(m.loadBefore && m.loadAfter
      ? [
          `**Machine load** (1/5/15-min load average; other work may share the cores): ` +
            `${loads(m.loadBefore)} at the start, ${loads(m.loadAfter)} at the end.`,
        ]
      : []),
    '',
    '## Method',
    '',
    '- Every role runs in its own process: the server under test (`startServer`, logs to /dev/null), the echo ceiling, the',
    '  Streamable HTTP peer, and the load generators. The machine has few cores, so load and server compete for them;',
    '  all processes are unpinned.',
    '- Load generators send raw pre-serialized JSON-RPC frames (WebSocket: one connection, subprotocol `mcp`, bearer token;',
    '  HTTP: keep-alive `node:http` Agent, one socket per request in flight, one MCP session), closed loop with a fixed',
    '  number of requests in flight, bounded by count and time. Latency = send to full response.',
    '- Ceiling: a bare `ws` server answering each request with a frame copied from the real response of the same row',
    '  (same size; id spliced in): what WebSocket framing and Node I/O cost without MCP, auth or files.',
    "- Peer: the same tool code (the server's own session factory) behind the SDK `StreamableHTTPServerTransport`",
    "  (`enableJsonResponse`, stateful), each request's token verified with jose against the same local issuer.",
    "- mcp-server over Streamable HTTP: the server's own HTTP side at `/mcp`, as configured (responses as it sends them).",
    '- The server runs with its per-client limits lifted (`RATE_LIMIT_CALLS_PER_SECOND`, `RATE_LIMIT_BURST`,',
    '  `MAX_CONNECTIONS_PER_CLIENT`, `MAX_CONNECTIONS`): the bench measures capacity, not the production throttle.',
    '- Tokens: RS256, signed by a local issuer in the bench process (discovery + JWKS on 127.0.0.1). All traffic is loopback.',
    '- Figures are the median over repetitions, with min–max in parentheses. MB/s = response bytes (MiB) per second.',
    '',
    '## Goals',
    '',
    '| goal | met | figures |',
    '| --- | --- | --- |',
    ...goals(results).map((g) => `| ${g.goal} | ${g.met ? 'yes' : 'no'} | ${g.figures} |`),
    '',
    '## tools/call throughput and latency',
    '',
    ...throughputTable(results),
    ...observations(results),
    '',
    `![p50 latency against requests in flight](${chartFile})`,
    '',
    '## Concurrent connections',
    '',
    'Authenticated, initialized connections held by several load processes (source addresses 127.0.x.y), against a fresh',
    'server process per repetition; server memory read from /proc/<pid>/status VmRSS (and V8 heap) after a forced GC,',
    'before opening and with all open; then read-file 1 KiB calls, 32 in flight in total, sent round-robin over all',
    'connections.',
    '',
    ...connectionTable(results),
    '',
    '## Handshake',
    '',
    hs
      ? `Connect + token check + initialize, sequential, keys cached: p50 ${msPair(hs.p50)} ms, p99 ${msPair(hs.p99)} ms ` +
        `(${hs.count} handshakes per repetition).`
      : 'Not measured in this run.',
    '',
    '## Token traffic (mcp-client)',
    '',
    ...tokenSection(results),
    '',
  ];
  return out.join('\n');
}
