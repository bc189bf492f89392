/** Renders BENCHMARKS.md and the latency chart from a {@link Results}. Pure: returns strings. */

import { CHANGES, NOT_KEPT } from './changes.ts';
import { lineChart } from './chart-svg.ts';
import type { ConnectionFigures } from './connections.ts';
import { AROUND_AFTER_MS, AROUND_BEFORE_MS } from './renewal.ts';
import type { LoadAverage, RenewalFigures, Results, RowResult, SlowCount, SlowHandshakes } from './results.ts';
import { CHART_INFLIGHT, CHART_PAYLOAD, TARGETS } from './rows.ts';
import type { GcReport } from './server-process.ts';
import type { Spread } from './stats.ts';
import type { Era } from './wire.ts';

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

const rate = (r: RowResult | undefined) => r?.stats.perSecond.median;
const p50Of = (r: RowResult | undefined) => r?.stats.p50.median;
/** A goal whose figures are missing from this run (section or row not measured). */
const missing = (goal: string, what: string): Goal => ({ goal, met: undefined, figures: `not measured (${what})` });

/** A "ratio at least" goal between two rates. */
function rateGoal(goal: string, a: RowResult | undefined, b: RowResult | undefined, min: number, what: string): Goal {
  const x = rate(a);
  const y = rate(b);
  if (x === undefined || y === undefined) return missing(goal, what);
  const r = x / y;
  const shown = min < 1 ? `${num(r * 100)}%` : `${r.toFixed(1)}x`;
  return { goal, met: r >= min, figures: `${num(x)} vs ${num(y)} calls/s = ${shown}` };
}

/** The goals of issue 18, each with this run's figures. */
function goals(results: Results): Goal[] {
  const at = (target: string, payload: string, inflight: number) => find(results, target, payload, inflight);
  // The SDK createMcpHandler peer's id is whatever its row calls it; any target naming a handler.
  const handlerPeer = results.rows.find(
    (r) => /handler/.test(r.target) && r.payload === 'read-1k' && r.inflight === 32,
  );
  const out: Goal[] = [
    rateGoal(
      'read-file 1 KiB, WebSocket, 32 in flight: ≥ 50% of the echo ceiling',
      at('server-ws', 'read-1k', 32),
      at('echo', 'read-1k', 32),
      0.5,
      'throughput',
    ),
    rateGoal(
      'same row: ≥ 3x the naive peer (SDK McpServer over ws, jose at the upgrade, fs.readFile)',
      at('server-ws', 'read-1k', 32),
      at('naive-ws', 'read-1k', 32),
      3,
      'naive peer row',
    ),
  ];
  const s1 = p50Of(at('server-ws', 'read-1k', 1));
  const e1 = p50Of(at('echo', 'read-1k', 1));
  const g3 = 'read-file 1 KiB, WebSocket, 1 in flight: p50 ≤ 2x the echo p50';
  out.push(
    s1 === undefined || e1 === undefined
      ? missing(g3, 'throughput')
      : { goal: g3, met: s1 <= 2 * e1, figures: `${ms(s1)} vs ${ms(e1)} ms = ${(s1 / e1).toFixed(2)}x` },
  );
  out.push(
    rateGoal(
      'list-files 10 entries, WebSocket, 32 in flight: ≥ 50% of the read-file 1 KiB rate',
      at('server-ws', 'list-10', 32),
      at('server-ws', 'read-1k', 32),
      0.5,
      'throughput',
    ),
    rateGoal(
      'read-file 1 KiB, Streamable HTTP 2026-07-28, 32 in flight: ≥ 5x the SDK createMcpHandler peer',
      at('server-http-2026', 'read-1k', 32),
      handlerPeer,
      5,
      'createMcpHandler peer row',
    ),
    rateGoal(
      'same row: ≥ 3x our own 2025-11-25 Streamable HTTP row',
      at('server-http-2026', 'read-1k', 32),
      at('server-http', 'read-1k', 32),
      3,
      'throughput',
    ),
  );
  const g6 = '50,000 concurrent authenticated WebSocket connections, ≤ 16 KiB server RSS each, calls spread';
  const skipped = results.meta.connectionsSkipped ?? [];
  const limitNote =
    skipped.length > 0
      ? `; ${skipped.map((n) => num(n)).join(', ')} not attempted: open-files limit ${results.meta.maxOpenFiles} ` +
        '(the hard limit of this machine; raising it needs CAP_SYS_RESOURCE)'
      : '';
  // The largest count of each era (results before 2026-12-02 have the 2025-11-25 rows only).
  const largest = ERAS.map((era) => connectionsOf(results, era).at(-1)).filter((c) => c !== undefined);
  const connectionsMet = (c: ConnectionFigures) =>
    c.connections >= 50_000 && c.failed === 0 && c.rssPerConnection.median <= 16 * 1024;
  const connectionFigures = (c: ConnectionFigures) =>
    `${num(c.connections)}${processesNote(c)} opened in ${num(c.openMs.median / 1000, 1)} s, ` +
    `${num(c.rssPerConnection.median / 1024, 1)} KiB RSS each, ${num(c.callsPerSecond.median)} calls/s over them, ${c.failed} failed`;
  // Where the largest count took several processes: the most one process held, beside it.
  const singleProcess = (era: Era) =>
    connectionsOf(results, era)
      .filter((c) => (c.servers ?? 1) === 1)
      .at(-1);
  const spreadNote = largest.some((c) => (c.servers ?? 1) > 1)
    ? `; in one process (open-files limit ${results.meta.maxOpenFiles}, the hard limit of this machine: raising it ` +
      `needs CAP_SYS_RESOURCE) ${ERAS.map((era) => singleProcess(era))
        .filter((c) => c !== undefined)
        .map((c) => `${eraName(c.era)} ${num(c.connections)} at ${num(c.rssPerConnection.median / 1024, 1)} KiB`)
        .join(', ')}`
    : '';
  out.push(
    largest.length === 0
      ? missing(g6, `connections${limitNote}`)
      : {
          goal: g6,
          met: largest.every(connectionsMet),
          figures: largest.map((c) => `${eraName(c.era)}: ${connectionFigures(c)}`).join('; ') + limitNote + spreadNote,
        },
  );
  const hs = results.handshake;
  const g7 = 'handshake (connect + token + first response), warm keys: p99 < 2 ms';
  const handshakes =
    hs === undefined
      ? []
      : [{ era: 'legacy' as const, ...hs }, ...(hs.modern ? [{ era: 'modern' as const, ...hs.modern }] : [])];
  out.push(
    hs === undefined
      ? missing(g7, 'handshake')
      : {
          goal: g7,
          met: handshakes.every((h) => h.p99.median < 2),
          figures:
            handshakes
              .map(
                (h) =>
                  `${eraName(h.era)} (${FIRST_EXCHANGE[h.era]}): p50 ${ms(h.p50.median)} ms, p99 ${ms(h.p99.median)} ms`,
              )
              .join('; ') +
            (hs.echo ? ` (bare ws echo, connect + first answer: p99 ${ms(hs.echo.p99.median)} ms)` : '') +
            (hs.slow ? `; ${slowShares(hs.slow)}` : ''),
        },
  );
  const rn = results.renewal;
  const g8 = 'in-band token renewal: < 1 ms server time, no call delayed past p99';
  if (rn === undefined || e1 === undefined) out.push(missing(g8, 'renewal'));
  else {
    // Idle latency is the server's time plus one loopback round trip: an upper bound of the server's
    // time (less the echo's p50 it can come out below zero, the two being measured apart).
    const serverBound = rn.idleP50.median;
    const p99Without = rn.callP99Without.median;
    const p99With = rn.callP99With.median;
    // The calls around a renewal against those around a tick sending nothing (bench/renewal.ts);
    // older results: paired runs, then the two medians.
    const around = rn.around;
    // The same-run control when the results have it (its calls share their moments with the renewals').
    const ratio = around
      ? around.p99 / (around.sameRunP99 ?? around.controlP99)
      : (rn.pairedP99Ratio?.median ?? p99With / p99Without);
    const paired = rn.pairedP99Ratio;
    out.push({
      goal: g8,
      met: serverBound < 1 && ratio <= 1.1 && rn.refused === 0,
      figures:
        `p50 ${ms(rn.idleP50.median)} ms idle, a loopback round trip included (the echo's: ${ms(e1)} ms), p99 ` +
        `${ms(rn.idleP99.median)} ms; ` +
        (around === undefined
          ? ''
          : `p99 of the calls sent around a renewal ${ms(around.p99)} ms (${around.count} calls) against ` +
            (around.sameRunP99 === undefined
              ? `${ms(around.controlP99)} ms around a tick sending nothing (${around.controlCount}): ${ratio.toFixed(2)}; `
              : `${ms(around.sameRunP99)} ms around the silent ticks between renewals in the same runs ` +
                `(${around.sameRunCount}): ${ratio.toFixed(2)} (around the ticks of runs without renewals: ` +
                `${ms(around.controlP99)} ms, ${around.controlCount} calls); ` +
                p90Sentence(around) +
                rememberedSentence(around))) +
        `calls p99 ${ms(p99Without)} ms without, ${ms(p99With)} ms with a renewal every ${rn.intervalMs} ms` +
        (paired === undefined ? '' : `; with / without per adjacent pair of runs: ${spreadRatio(paired)}`),
    });
  }
  return out;
}

/**
 * The control for the check itself, when recorded: the same ratio around renewals the server
 * answers from memory. A ratio as far from 1 there as around the checked ones is the machine's.
 */
function rememberedSentence(around: NonNullable<RenewalFigures['around']>): string {
  if (around.rememberedP99 === undefined || around.sameRunP99 === undefined) return '';
  return (
    `around renewals answered from memory (no signature check; ${around.rememberedCount} calls) p99 ` +
    `${ms(around.rememberedP99)} ms = ${(around.rememberedP99 / around.sameRunP99).toFixed(2)} of the silent ticks' ` +
    '(the same ratio for a renewal that costs the server almost nothing: how far this machine moves it); '
  );
}

/** The p90s around renewals and around silent ticks, when recorded: the delay a renewal adds to its neighbours. */
function p90Sentence(around: NonNullable<RenewalFigures['around']>): string {
  if (around.p90 === undefined || around.sameRunP90 === undefined) return '';
  return `at p90 ${ms(around.p90)} against ${ms(around.sameRunP90)} ms; `;
}

/** `median (min–max)` of a ratio. */
const spreadRatio = (x: Spread): string => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;

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

const ERAS: readonly Era[] = ['legacy', 'modern'];
/** The server's collections during `handshakes` server handshakes (both eras). */
function gcSentence(gc: GcReport, handshakes: number): string {
  return (
    `The server's garbage collections meanwhile: ${gc.scavenges} young ones over ` +
    `${handshakes.toLocaleString('en-US')} handshakes (one in ${Math.round(handshakes / Math.max(1, gc.scavenges))}), ` +
    `pause p50 ${gc.scavengeP50.toFixed(2)} ms, max ${gc.scavengeMax.toFixed(2)} ms; ${gc.full} full.`
  );
}

const share = (c: SlowCount, n: number) => `${((100 * n) / Math.max(1, c.of)).toFixed(2)}%`;

/** Over the bound, per kind: the goal allows 1% (p99); the echo's share is the machine's own. */
function slowShares(slow: SlowHandshakes): string {
  const ours = (c: SlowCount) => `${share(c, c.over)} (${share(c, c.duringServerGc)} during a server GC)`;
  return (
    `over ${slow.boundMs} ms: 2025-11-25 ${ours(slow.legacy)}, 2026-07-28 ${ours(slow.modern)}, ` +
    `bare ws echo ${share(slow.echo, slow.echo.over)}`
  );
}

/** The handshake section's sentence on the slow handshakes (runs since 2026-12-03 18:15). */
function slowSentence(slow: SlowHandshakes): string {
  const count = (c: SlowCount) => `${num(c.over)} of ${num(c.of)} (${share(c, c.over)})`;
  const during = (c: SlowCount) => `${num(c.duringServerGc)}`;
  return (
    `Handshakes over ${slow.boundMs} ms (the goal allows 1%): 2025-11-25 ${count(slow.legacy)}, 2026-07-28 ` +
    `${count(slow.modern)}, the bare ws echo ${count(slow.echo)}; of them, ${during(slow.legacy)}, ` +
    `${during(slow.modern)} and ${during(slow.echo)} overlapped a young collection of the server (for the echo, another ` +
    "process, that is coincidence alone). The echo's share is what this machine gives a server that checks no token " +
    'and speaks no MCP.'
  );
}

/** How a connection of each era opens (the handshake's first exchange). */
const FIRST_EXCHANGE: Readonly<Record<Era, string>> = { legacy: 'initialize', modern: 'server/discover' };
const eraName = (era: Era | undefined) => (era === 'modern' ? '2026-07-28' : '2025-11-25');

/** ` (over N server processes)` for a count spread over several, else nothing. */
function processesNote(c: ConnectionFigures): string {
  return (c.servers ?? 1) > 1 ? ` (over ${c.servers} server processes)` : '';
}

/** The connection rows of one era, fewest connections first (rows without an era are 2025-11-25's). */
function connectionsOf(results: Results, era: Era): ConnectionFigures[] {
  return (results.connections ?? []).filter((c) => (c.era ?? 'legacy') === era);
}

function connectionTable(results: Results): string[] {
  if (!results.connections) return ['Not measured in this run.'];
  const lines = [
    '| protocol (first exchange) | connections | time to open s | RSS per connection KiB | heap per connection KiB | calls/s spread over them | p50 ms | p99 ms | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of ERAS.flatMap((era) => connectionsOf(results, era))) {
    const kib = (s: Spread) => `${num(s.median / 1024, 1)} (${num(s.min / 1024, 1)}–${num(s.max / 1024, 1)})`;
    const era = c.era ?? 'legacy';
    lines.push(
      `| ${eraName(era)} (${FIRST_EXCHANGE[era]}) | ${num(c.connections)}${processesNote(c)} | ` +
        `${num(c.openMs.median / 1000, 2)} (${num(c.openMs.min / 1000, 2)}–${num(c.openMs.max / 1000, 2)}) | ` +
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
  // Runs before 2026-12-02 recorded one token per lifetime as the expectation; the client renews at
  // most half a lifetime early (30 s before exp by default), which is what it has done since.
  const renewAfter = t.renewAfterSeconds ?? t.lifetimeSeconds - Math.min(30, t.lifetimeSeconds / 2);
  const expected = Math.floor(t.seconds / renewAfter) + 1;
  return [
    `Over ${t.seconds} s with ${t.lifetimeSeconds} s tokens, the client library made **${t.tokenRequests}** token-endpoint ` +
      `requests (expected at most ${expected}: a new token ${renewAfter} s into each one, 30 s before exp but at most ` +
      `half a lifetime early, handed to the open connection in-band); ${t.calls} calls succeeded, ${t.failedCalls} failed, ` +
      `${t.reconnects} reconnects.`,
  ];
}

/** The A/B table of every change (bench/changes.ts). */
function changesSection(): string[] {
  const lines = [
    'Each change of the WebSocket hot path measured on its own with `bench/ab.ts` (the server before and after the',
    'change side by side, rows interleaved, medians; server CPU time per call is the steadier figure on a shared',
    'machine). Recorded in `bench/changes.ts` when the change was made, not re-measured by this run.',
    '',
  ];
  const fig = (v: number) => num(v, v < 10 ? 3 : v < 1000 ? 1 : 0);
  for (const c of CHANGES) {
    lines.push(`**${c.change}** (${c.commit}; ${c.method})`, '');
    lines.push('| row | figure | before | after | gain |', '| --- | --- | ---: | ---: | ---: |');
    for (const f of c.figures) {
      // Lower is better for times, higher for rates.
      const gain = f.figure.includes('/s') ? f.after / f.before : f.before / f.after;
      lines.push(`| ${f.row} | ${f.figure} | ${fig(f.before)} | ${fig(f.after)} | ${gain.toFixed(2)}x |`);
    }
    lines.push('');
  }
  lines.push('Measured and not kept:', '', ...NOT_KEPT.map((n) => `- ${n}`));
  return lines;
}

function renewalSection(results: Results): string[] {
  const r = results.renewal;
  if (!r) return ['Not measured in this run.'];
  const a = r.around;
  // Results with p90s sent each token once; older ones reused 20 (the server remembered each after its first check).
  const tokens =
    a?.p90 === undefined
      ? 'a token from a pool of 20 (the server remembered each after its first check)'
      : 'each time a token the server has not seen (every renewal pays for the signature check)';
  const sameRun =
    a?.sameRunP99 === undefined
      ? ''
      : ` Around the silent ticks between renewals in the same runs (${a.sameRunCount} calls): ` +
        (a.sameRunP90 === undefined ? '' : `p90 ${ms(a.sameRunP90)} ms, `) +
        `p99 ${ms(a.sameRunP99)} ms.` +
        (a.rememberedP99 === undefined
          ? ''
          : ` Around the renewals with the connection's own token in the same runs, which the server answers from ` +
            `its memory of verified tokens (no signature check; ${a.rememberedCount} calls): ` +
            (a.rememberedP90 === undefined ? '' : `p90 ${ms(a.rememberedP90)} ms, `) +
            `p99 ${ms(a.rememberedP99)} ms: the difference a renewal makes without the check, against which the ` +
            'checked ones are read.');
  return [
    `\`auth/renew\` on one open connection, ${tokens}: ${r.count} sequential renewals on an idle connection took ` +
      `p50 ${msPair(r.idleP50)} ms, p99 ${msPair(r.idleP99)} ms (server time plus one loopback round trip). ` +
      `read-file 1 KiB calls at ${r.inflight} in flight on the same connection: p99 ${msPair(r.callP99Without)} ms without ` +
      `renewals, ${msPair(r.callP99With)} ms with one every ${r.intervalMs} ms` +
      (a?.rememberedP99 === undefined ? '' : " (and, between them, one with the connection's own token)") +
      ` (medians over ${r.loadedRuns ?? 'the'} ` +
      `runs of each, alternated); ${r.refused} renewals refused.` +
      (a === undefined
        ? ''
        : ` The calls sent from ${AROUND_BEFORE_MS} ms before to ${AROUND_AFTER_MS} ms after a renewal was sent ` +
          `(${a.count} of them, over all repetitions): ` +
          (a.p90 === undefined ? '' : `p90 ${ms(a.p90)} ms, `) +
          `p99 ${ms(a.p99)} ms; the control, calls sent as near ` +
          `a tick of the same timer in the runs without renewals (the tick sends nothing; ${a.controlCount} calls): ` +
          `p99 ${ms(a.controlP99)} ms.` +
          sameRun),
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
    '  HTTP: one keep-alive connection per request in flight sending ready-made request bytes and reading each response',
    '  to its length, as wrk does; one MCP session), closed loop with a fixed',
    '  number of requests in flight, bounded by count and time. Latency = send to full response.',
    '- Ceiling: a bare `ws` server answering each request with a frame copied from the real response of the same row',
    '  (same size; id spliced in): what WebSocket framing and Node I/O cost without MCP, auth or files.',
    "- Peer: the same tool code (the server's own session factory) behind the SDK `StreamableHTTPServerTransport`",
    "  (`enableJsonResponse`, stateful), each request's token verified with jose against the same local issuer.",
    "- mcp-server over Streamable HTTP: the server's own HTTP side at `/mcp`, as configured (responses as it sends them).",
    '- Naive peer (`bench/ws-peer.ts`): what a user wiring the SDK to `ws` would write: one SDK `McpServer` per',
    '  connection over a minimal `Transport` (JSON.parse / JSON.stringify), the token checked once with jose `jwtVerify`',
    '  at the upgrade, the same tool names and result shapes done with `path.resolve` + a prefix check and',
    '  `fs.readFile` / `readdir` + `stat` per call; no budgets, audit log or symlink checks.',
    '- The server runs with its per-client limits lifted (`RATE_LIMIT_CALLS_PER_SECOND`, `RATE_LIMIT_BURST`,',
    '  `MAX_CONNECTIONS_PER_CLIENT`, `MAX_CONNECTIONS`): the bench measures capacity, not the production throttle.',
    ...(m.serverNodeOptions === undefined
      ? []
      : [
          `- The server runs with its image's Node flags (\`${m.serverNodeOptions.join(' ')}\`, mcp-server/Dockerfile \`NODE_OPTIONS\`);`,
          "  the peers with Node's defaults.",
        ]),
    '- Tokens: RS256, signed by a local issuer in the bench process (discovery + JWKS on 127.0.0.1). All traffic is loopback.',
    '- Handshakes are timed by a client of ready-made bytes (bench/raw-ws.ts: the upgrade request and frames built once, the',
    "  101 and its accept key checked), as the rows' load is: runs before 2026-12-03 used the `ws` client, whose own work per",
    '  connection (about 0.4 ms at p50 against the bare echo on this machine) was inside every handshake figure.',
    hs?.interleaved
      ? '  The two eras and the echo take turns handshake by handshake, so a slow moment of the machine falls on all three alike.'
      : '  This run timed each era and the echo in a block of its own (runs since 2026-12-03 11:00 take turns handshake by handshake).',
    "- Renewals under load: besides each run's p99, the calls sent just before or after a renewal are compared at p99 with",
    '  the calls sent as near a tick of the same timer in the runs without renewals, where the tick sends nothing (a timer',
    '  fires late after a busy moment, so calls near any tick are slower than calls at large). Since 2026-12-03 13:30 the',
    '  goal is judged against the silent ticks halfway between renewals in the same runs, timed in the same moments.',
    '  Since 14:30 every renewal carries a token the server has not seen (before, 20 were reused and the server answered',
    '  all but the first 20 from its memory of verified tokens), and the calls are pooled over 8 repetitions, not 3.',
    "  Since 18:15 the timer ticks three times per interval: a fresh token, the connection's own token (answered from",
    '  memory, no signature check: the control for the check itself) and nothing; the silent ticks are no longer halfway.',
    '- Figures are the median over repetitions, with min–max in parentheses. MB/s = response bytes (MiB) per second.',
    '',
    '## Goals',
    '',
    '| goal | met | figures |',
    '| --- | --- | --- |',
    ...goals(results).map((g) => `| ${g.goal} | ${g.met === undefined ? '—' : g.met ? 'yes' : 'no'} | ${g.figures} |`),
    '',
    '## What changed and what it gained',
    '',
    ...changesSection(),
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
    'Authenticated connections held by several load processes (a source address 127.x.y.z per load process and server), against a fresh server',
    'process per repetition, opened as a client of each protocol revision opens one: 2025-11-25 with `initialize`,',
    '2026-07-28 with the `server/discover` probe; server memory read from /proc/<pid>/status VmRSS (and V8 heap) after',
    'a forced GC, before opening and with all open; then read-file 1 KiB calls, 32 in flight in total, sent round-robin',
    'over all connections. A count one server process cannot hold (one descriptor per connection, and the open-files',
    'limit in the header) is spread evenly over as many fresh server processes as it takes, as replicas behind a load',
    'balancer would hold it; its memory figures are the growth summed over them. Each repetition first waits (at most',
    "150 s) until the kernel's connection-tracking table, where netfilter is loaded (Docker loads it), has room for its",
    'connections: closed ones stay there 120 s, and a full table drops new SYNs (seen: 88 of 50,000 timed out opening).',
    '',
    ...connectionTable(results),
    '',
    '## Handshake',
    '',
    hs
      ? `Connect + token check + first exchange, sequential, keys cached (${hs.count} handshakes per repetition, ` +
        (hs.client === 'raw'
          ? 'timed by a client of ready-made bytes, bench/raw-ws.ts: upgrade request and frames built once, the accept key checked'
          : 'timed by the `ws` client') +
        '): ' +
        `2025-11-25 (initialize) p50 ${msPair(hs.p50)} ms, p99 ${msPair(hs.p99)} ms` +
        (hs.modern
          ? `; 2026-07-28 (server/discover) p50 ${msPair(hs.modern.p50)} ms, p99 ${msPair(hs.modern.p99)} ms`
          : '') +
        '.' +
        (hs.echo
          ? ` The ceiling, connect + first answer from the bare ws echo (no token check, no MCP), ` +
            (hs.interleaved ? 'interleaved with ours handshake by handshake: ' : 'timed between our blocks: ') +
            `p50 ${msPair(hs.echo.p50)} ms, p99 ${msPair(hs.echo.p99)} ms.`
          : '') +
        (hs.gc ? ` ${gcSentence(hs.gc, 2 * hs.count * hs.samples.length)}` : '') +
        (hs.slow ? ` ${slowSentence(hs.slow)}` : '')
      : 'Not measured in this run.',
    '',
    '## In-band token renewal',
    '',
    ...renewalSection(results),
    '',
    '## Token traffic (mcp-client)',
    '',
    ...tokenSection(results),
    '',
  ];
  return out.join('\n');
}
