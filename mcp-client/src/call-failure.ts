import { SdkError, SdkErrorCode, type Tool } from '@modelcontextprotocol/client';
import { CloseCode } from 'mcp-ws-common';
import { ClientError, isClientError } from './errors.ts';
import type { ProtocolChoice } from './protocol-era.ts';
import type { CloseInfo } from './transport/ws-client-transport.ts';

/** Default number of sends of a read-only or idempotent call whose connection keeps dropping. */
export const DEFAULT_CALL_MAX_ATTEMPTS = 3;

/**
 * What a failed request means for sending it again:
 * - `unsent`: it certainly never reached the server (socket not open, connection refused,
 *   session unknown to the server), so sending it again is safe for any tool;
 * - `in_doubt`: the connection dropped after it was sent: it may or may not have run;
 * - `undefined`: not a lost connection (an answer, a timeout, a refusal): never sent again.
 */
export type Interruption = 'unsent' | 'in_doubt' | undefined;

/** Classifies a request's failure; see {@link Interruption}. */
export function interruptionOf(err: unknown): Interruption {
  if (err instanceof SdkError) {
    if (err.code === SdkErrorCode.ConnectionClosed) return 'in_doubt';
    // The SDK's own refusal when it has no transport at all: nothing was sent.
    return err.code === SdkErrorCode.NotConnected ? 'unsent' : undefined;
  }
  if (isClientError(err, 'connect_failed')) return err.unsent ? 'unsent' : 'in_doubt';
  // The request path still refuses with a plain Error when there is no transport.
  return err instanceof Error && err.message === 'Not connected' ? 'unsent' : undefined;
}

/**
 * True when the tool's annotations (from tools/list) say that running it twice does no harm:
 * `readOnlyHint` (it changes nothing) or `idempotentHint` (a repeat changes nothing more).
 * A tool without annotations is assumed unsafe to repeat, as MCP's defaults say.
 */
export function isRepeatable(annotations: Tool['annotations'] | undefined): boolean {
  return annotations?.readOnlyHint === true || annotations?.idempotentHint === true;
}

/** `outcome_unknown`: a call that is not safe to repeat lost its connection after it was sent. */
export function outcomeUnknown(tool: string, attempts: number, cause: unknown): ClientError {
  return new ClientError(
    'outcome_unknown',
    `the connection dropped while ${tool} was in flight: the call may or may not have run on the server. ` +
      `It was not sent again because ${tool} is not marked read-only or idempotent; check its effect before repeating it`,
    { cause, attempts },
  );
}

/** `resend_exhausted`: a repeatable request lost its connection on every one of its attempts. */
export function resendExhausted(what: string, attempts: number, cause: unknown): ClientError {
  return new ClientError(
    'resend_exhausted',
    `${what} was sent ${attempts} times and each time the connection dropped before the answer ` +
      '(it may have run; it is read-only or idempotent, so that did no harm): raise CALL_MAX_ATTEMPTS or check the network path',
    { cause, attempts },
  );
}

/** True when the SDK gave up waiting for the answer (`requestTimeoutMs`). */
export function isRequestTimeout(err: unknown): err is SdkError {
  return err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout;
}

/** `timeout`: no answer within the request timeout. */
export function requestTimedOut(what: string, timeoutMs: number, cause: unknown): ClientError {
  return new ClientError(
    'timeout',
    `${what} got no answer within ${timeoutMs} ms (REQUEST_TIMEOUT_MS): it may or may not have run on the server`,
    { cause },
  );
}

/** "close code N: reason", for messages. */
export function describeClose(info: CloseInfo): string {
  return info.reason ? `close code ${info.code}: ${info.reason}` : `close code ${info.code}`;
}

/** Where a failed connect happened, for {@link mapConnectError}. */
export interface ConnectFailureContext {
  readonly url: string;
  /** The revision the client was asked to speak. */
  readonly protocol: ProtocolChoice;
  /** How the transport closed, when it did. */
  readonly close: CloseInfo | undefined;
}

/**
 * Maps a failed connect (transport start, `server/discover` probe, `initialize`) to a ClientError:
 * the transport's own ClientError as is (also when the SDK wrapped it in a probe failure),
 * `connect_failed` for a lost connection or no answer in time (retryable), else `protocol`.
 */
export function mapConnectError(err: unknown, at: ConnectFailureContext): ClientError {
  const own = clientErrorIn(err);
  if (own) return own;
  const { url, close } = at;
  // The SDK closes the transport itself (1000) after a failed probe: only the server's close counts.
  if (interruptionOf(err) !== undefined || (close !== undefined && close.code !== CloseCode.NORMAL)) {
    return new ClientError(
      'connect_failed',
      `the server at ${url} closed the connection during the MCP handshake${close ? ` (${describeClose(close)})` : ''}`,
      { cause: err, ...(close ? { closeCode: close.code } : {}) },
    );
  }
  if (isRequestTimeout(err)) {
    // Retryable like any failed connect: the server may be back on the next attempt.
    return new ClientError('connect_failed', `the server at ${url} did not answer the MCP handshake in time`, {
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof SdkError && err.code === SdkErrorCode.EraNegotiationFailed) {
    return new ClientError(
      'protocol',
      `the server at ${url} does not speak MCP ${at.protocol} (${message}); ` +
        'set MCP_PROTOCOL (--protocol) to auto to use the revision it offers',
      { cause: err },
    );
  }
  const advice =
    at.protocol === 'auto' ? '' : ' (MCP_PROTOCOL=auto lets the client use the revision the server offers)';
  return new ClientError('protocol', `connecting to ${url} with MCP ${at.protocol} failed: ${message}${advice}`, {
    cause: err,
  });
}

/** The ClientError `err` is or wraps (the SDK wraps transport errors thrown during its probe). */
function clientErrorIn(err: unknown): ClientError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isClientError(e)) return e;
  }
  return undefined;
}
