/**
 * What the throughput table measures: targets (who answers) x payloads (which call) x requests
 * in flight. Adding a target is one entry in TARGETS plus its endpoint in run.ts (`endpointOf`).
 */
import { DATASET } from './dataset.ts';
import type { ToolCall } from './wire.ts';

/** Who answers: the load generator to use and whether an MCP handshake comes first. */
export interface Target {
  readonly id:
    | 'echo'
    | 'server-ws'
    | 'server-ws-2026'
    | 'server-http'
    | 'server-http-2026'
    | 'sdk-http'
    | 'sdk-handler-2026'
    | 'naive-ws';
  readonly label: string;
  readonly transport: 'ws' | 'http';
  /** An MCP server (the echo ceiling is not). */
  readonly mcp: boolean;
  /** Speaks 2026-07-28: no initialize, the `_meta` envelope on every request; otherwise 2025-11-25 with initialize. */
  readonly modern?: boolean;
}

/** A benchmarked call. */
export interface Payload {
  readonly id: string;
  readonly label: string;
  readonly call: ToolCall;
  /** File bytes a read returns (MB/s is reported for reads). */
  readonly fileBytes?: number;
}

/** One row of the throughput table. */
export interface Row {
  readonly target: Target;
  readonly payload: Payload;
  readonly inflight: number;
}

export const TARGETS: readonly Target[] = [
  { id: 'echo', label: 'ceiling: bare ws echo', transport: 'ws', mcp: false },
  { id: 'server-ws', label: 'mcp-server over WebSocket', transport: 'ws', mcp: true },
  { id: 'server-ws-2026', label: 'mcp-server over WebSocket, 2026-07-28', transport: 'ws', mcp: true, modern: true },
  // The naive wiring (bench/ws-peer.ts): SDK McpServer on ws, jose at the upgrade, fs.readFile per call.
  { id: 'naive-ws', label: 'peer: naive SDK McpServer over ws', transport: 'ws', mcp: true },
  { id: 'server-http', label: 'mcp-server over Streamable HTTP', transport: 'http', mcp: true },
  {
    id: 'server-http-2026',
    label: 'mcp-server over Streamable HTTP, 2026-07-28 (stateless)',
    transport: 'http',
    mcp: true,
    modern: true,
  },
  { id: 'sdk-http', label: 'peer: SDK Streamable HTTP (JSON)', transport: 'http', mcp: true },
  // The SDK v2 stateless entry served plainly (bench/sdk-handler-peer.ts): createMcpHandler, jose per request.
  {
    id: 'sdk-handler-2026',
    label: 'peer: SDK createMcpHandler, 2026-07-28',
    transport: 'http',
    mcp: true,
    modern: true,
  },
];

export const PAYLOADS: readonly Payload[] = [
  {
    id: 'list-10',
    label: 'list-files, 10 files',
    call: { name: 'list-files', arguments: { directory: DATASET.smallDir } },
  },
  {
    id: 'read-1k',
    label: 'read-file 1 KiB',
    call: { name: 'read-file', arguments: { filePath: DATASET.file1k } },
    fileBytes: 1024,
  },
  {
    id: 'read-64k',
    label: 'read-file 64 KiB',
    call: { name: 'read-file', arguments: { filePath: DATASET.file64k } },
    fileBytes: 65536,
  },
  {
    id: 'read-1m',
    label: 'read-file 1 MiB',
    call: { name: 'read-file', arguments: { filePath: DATASET.file1m } },
    fileBytes: 1048576,
  },
];

/** Requests in flight of the table. */
export const TABLE_INFLIGHT = [1, 32] as const;
/** Requests in flight of the latency chart (read-file 1 KiB). */
export const CHART_INFLIGHT = [1, 4, 16, 32] as const;
/** The chart's payload. */
export const CHART_PAYLOAD = 'read-1k';

/** Stable key of a row, used in the JSON results. */
export function rowKey(row: Row): string {
  return `${row.target.id}/${row.payload.id}/${row.inflight}`;
}

/** Every row: the table (all targets x payloads x 1, 32) plus the chart's extra in-flight points. */
export function allRows(targets: readonly Target[] = TARGETS, payloads: readonly Payload[] = PAYLOADS): Row[] {
  const rows: Row[] = [];
  for (const payload of payloads) {
    const inflights = payload.id === CHART_PAYLOAD ? CHART_INFLIGHT : TABLE_INFLIGHT;
    for (const target of targets) for (const inflight of inflights) rows.push({ target, payload, inflight });
  }
  return rows;
}
