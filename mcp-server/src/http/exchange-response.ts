import type { ServerResponse } from 'node:http';
import type { JSONRPCErrorResponse, JSONRPCMessage } from '@modelcontextprotocol/server';
import type { ExchangeSink } from '../mcp/dispatch-channels.ts';
import { sendJson, sendJsonText } from './json-rpc-reply.ts';

/** Interval of SSE keep-alive comments while a response streams, in ms (the SDK's default). */
export const SSE_KEEP_ALIVE_MS = 15_000;

/**
 * HTTP statuses of errors the protocol layer answers before a handler runs, as the SDK's
 * per-request HTTP transport maps them (its ladder table); other codes stay 200.
 */
const REFUSAL_STATUS: Readonly<Record<number, number>> = {
  [-32700]: 400,
  [-32600]: 400,
  [-32601]: 404,
  [-32022]: 400,
  [-32021]: 400,
  [-32020]: 400,
};

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** Status of the HTTP answer to a request that ended without an answer (shutdown), as the SDK's entry answers it. */
const CLOSED_STATUS = 499;

/**
 * Writes one exchange's answer as the SDK's per-request HTTP transport shapes it (`auto`): one
 * JSON body, unless the handler sends a message before its result (progress), which turns the
 * response into an SSE stream carrying those messages and then the result, with keep-alive
 * comments every {@link SSE_KEEP_ALIVE_MS} while it is open.
 */
export function exchangeResponse(res: ServerResponse): ExchangeSink {
  let streaming = false;
  let keepAlive: NodeJS.Timeout | undefined;
  const frame = (message: JSONRPCMessage) => {
    if (!res.writableEnded) res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  };
  const stopKeepAlive = () => clearInterval(keepAlive);
  res.once('close', stopKeepAlive);
  return {
    related(message) {
      if (!streaming) {
        if (res.headersSent) return;
        streaming = true;
        res.writeHead(200, SSE_HEADERS);
        keepAlive = setInterval(() => {
          if (!res.writableEnded) res.write(': keepalive\n\n');
        }, SSE_KEEP_ALIVE_MS);
        keepAlive.unref();
      }
      frame(message);
    },
    settle(message, refused, json) {
      if (streaming) {
        stopKeepAlive();
        frame(message);
        res.end();
        return;
      }
      const code = refused ? (message as JSONRPCErrorResponse).error.code : undefined;
      const status = code === undefined ? 200 : (REFUSAL_STATUS[code] ?? 200);
      if (json === undefined) sendJson(res, status, {}, message);
      else sendJsonText(res, status, {}, json);
    },
    abandon() {
      stopKeepAlive();
      if (!res.headersSent) {
        res.writeHead(CLOSED_STATUS);
        res.end();
      } else if (!res.writableEnded) res.end();
    },
  };
}
