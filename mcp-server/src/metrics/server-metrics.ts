import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type ToolCallMetrics, toolCallMetrics } from './tool-call-metrics.ts';

/** Prefix of every metric the server exposes, prom-client's default process metrics included. */
export const METRICS_PREFIX = 'mcp_server_';

/** Upper bounds of the tool-call latency buckets, in seconds: 100 µs (a cached small read) to 5 s. */
export const TOOL_CALL_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

/** The transport label, as the audit log names transports. */
export type MetricsTransport = 'websocket' | 'http';

/** The protocol era label: the newest revision of the era a connection or request speaks. */
export type Era = '2025-11-25' | '2026-07-28';

/** Label value of a WebSocket connection whose first message has not arrived yet. */
export const PENDING_ERA = 'pending';

/** Which audit event a refusal is (`auth.refused`: the credential; `access.denied`: policy, capacity). */
export type RefusalEvent = 'auth.refused' | 'access.denied';

/** Result of one introspection (RFC 7662) request. */
export type IntrospectionResultLabel = 'active' | 'inactive' | 'error';

/** One open connection in the `connections` gauge. */
export interface OpenConnection {
  /** The connection now speaks `era` (a WebSocket's first message decides; a probe may be followed by a fallback). */
  settle(era: Era): void;
  /** The connection closed; later calls do nothing. */
  closed(): void;
}

/**
 * The server's metrics, in a registry of its own (never prom-client's global one: several servers
 * may run in one process). Label values come from closed sets (transport, era, tool names, coded
 * reasons): never tokens, client ids, user names or paths, which would leak and be unbounded.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts a connection opened: a WebSocket (era pending until its first message) or an HTTP session. */
  connectionOpened(transport: MetricsTransport, era?: Era): OpenConnection;
  /** Counts one authenticated Streamable HTTP POST by the era it was served in. */
  httpRequest(era: Era): void;
  /** The pre-resolved metrics of one tool (created on first use, then shared). */
  tool(name: string): ToolCallMetrics;
  /** Counts a refusal as its audit event (`auth.refused` / `access.denied`) by transport and coded reason. */
  refused(event: RefusalEvent, reason: string, transport: MetricsTransport): void;
  /** Counts one JWKS fetch by why it was made and whether it succeeded. */
  jwksFetched(reason: string, ok: boolean): void;
  /** Counts one introspection request by its result. */
  introspected(result: IntrospectionResultLabel): void;
  /** Counts a WebSocket connection closed because its token was withdrawn (4403 revoked, 1013 unverifiable). */
  withdrawn(reason: 'revoked' | 'unverifiable'): void;
  /** Counts one in-band token renewal (`auth/renew`) by result: `ok` or the refusal's coded reason. */
  renewal(result: string): void;
  /** Reports `size()` as the number of tokens the revocation watch tracks, read at each scrape. */
  trackRevocation(size: () => number): void;
}

/** Options of {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * Also collect prom-client's default process metrics (CPU, RSS, heap, event-loop lag, GC, open
   * handles) under {@link METRICS_PREFIX}. Its event-loop monitor and GC observer live as long as the
   * process (prom-client offers no way to stop them). Default true.
   */
  readonly processMetrics?: boolean;
}

const SDK_ERA = { legacy: '2025-11-25', modern: '2026-07-28' } as const;

/** The era label of the SDK's `McpRequestContext.era`. */
export function eraOf(sdkEra: 'legacy' | 'modern'): Era {
  return SDK_ERA[sdkEra];
}

/** Creates the server's registry and metrics; see {@link ServerMetrics}. */
export function createServerMetrics(options: ServerMetricsOptions = {}): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const name = (n: string) => `${METRICS_PREFIX}${n}`;
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });

  const connections = new Gauge({
    name: name('connections'),
    help: 'Open connections: WebSocket connections (era "pending" until the first message) and 2025-11-25 HTTP sessions.',
    labelNames: ['transport', 'era'] as const,
    registers,
  });
  const opened = new Counter({
    name: name('connections_opened_total'),
    help: 'Connections opened: WebSocket upgrades accepted and HTTP sessions initialized.',
    labelNames: ['transport'] as const,
    registers,
  });
  // Per-request counts are plain numbers, handed over at each scrape (a prom-client increment
  // hashes its labels every time); see tool-call-metrics.ts.
  const requestsByEra = { '2025-11-25': 0, '2026-07-28': 0 };
  const tools = new Map<string, ToolCallMetrics>();
  new Counter({
    name: name('http_requests_total'),
    help: 'Authenticated Streamable HTTP POSTs by protocol era (2026-07-28 is stateless: one request, no session).',
    labelNames: ['era'] as const,
    registers,
    collect() {
      this.reset();
      for (const [era, n] of Object.entries(requestsByEra)) this.inc({ era }, n);
    },
  });
  new Counter({
    name: name('tool_calls_total'),
    help: 'Tool calls that reached a tool, by outcome: ok, insufficient_scope, rate_limited, or the tool error code.',
    labelNames: ['tool', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const tool of tools.values()) tool.collect(this);
    },
  });
  const duration = new Histogram({
    name: name('tool_call_duration_seconds'),
    help: 'Time from a tool call reaching its tool until its result is ready, for calls that ran.',
    labelNames: ['tool', 'result'] as const,
    buckets: [...TOOL_CALL_BUCKETS],
    registers,
  });
  const authRefused = new Counter({
    name: name('auth_refused_total'),
    help: 'Connections and requests refused because of their credential (audit event auth.refused), by coded reason.',
    labelNames: ['transport', 'reason'] as const,
    registers,
  });
  const accessDenied = new Counter({
    name: name('access_denied_total'),
    help: 'Connections and requests refused by policy or capacity (audit event access.denied), by coded reason.',
    labelNames: ['transport', 'reason'] as const,
    registers,
  });
  const jwksFetches = new Counter({
    name: name('jwks_fetches_total'),
    help: 'JWKS fetches by reason (load, max_age, unknown_kid) and result (ok, error).',
    labelNames: ['reason', 'result'] as const,
    registers,
  });
  const introspections = new Counter({
    name: name('introspection_requests_total'),
    help: 'Token introspection (RFC 7662) requests by result: active, inactive, error.',
    labelNames: ['result'] as const,
    registers,
  });
  const renewals = new Counter({
    name: name('token_renewals_total'),
    help: 'In-band token renewals (auth/renew) on WebSocket connections by result: ok, or the coded refusal reason.',
    labelNames: ['result'] as const,
    registers,
  });
  const withdrawals = new Counter({
    name: name('revocation_withdrawals_total'),
    help: 'WebSocket connections closed because their token was withdrawn: revoked (4403), unverifiable (1013).',
    labelNames: ['reason'] as const,
    registers,
  });

  // Series known in advance exist from the start (at 0), so rates and alerts see them at once.
  for (const transport of ['websocket', 'http']) opened.labels(transport).inc(0);
  for (const era of [PENDING_ERA, '2025-11-25', '2026-07-28']) connections.labels('websocket', era).set(0);
  connections.labels('http', '2025-11-25').set(0);

  return {
    registry,
    connectionOpened(transport, era) {
      opened.labels(transport).inc();
      let current: string = era ?? PENDING_ERA;
      let open = true;
      connections.labels(transport, current).inc();
      return {
        settle(next) {
          if (!open || next === current) return;
          connections.labels(transport, current).dec();
          current = next;
          connections.labels(transport, current).inc();
        },
        closed() {
          if (!open) return;
          open = false;
          connections.labels(transport, current).dec();
        },
      };
    },
    httpRequest(era) {
      requestsByEra[era]++;
    },
    tool(toolName) {
      let metrics = tools.get(toolName);
      if (metrics === undefined) {
        metrics = toolCallMetrics(toolName, duration);
        tools.set(toolName, metrics);
      }
      return metrics;
    },
    refused(event, reason, transport) {
      (event === 'auth.refused' ? authRefused : accessDenied).labels(transport, reason).inc();
    },
    jwksFetched(reason, ok) {
      jwksFetches.labels(reason, ok ? 'ok' : 'error').inc();
    },
    introspected(result) {
      introspections.labels(result).inc();
    },
    renewal(result) {
      renewals.labels(result).inc();
    },
    withdrawn(reason) {
      withdrawals.labels(reason).inc();
    },
    trackRevocation(size) {
      new Gauge({
        name: name('revocation_tracked_tokens'),
        help: 'Distinct live tokens the revocation watch introspects each round.',
        registers,
        collect() {
          this.set(size());
        },
      });
    },
  };
}
