import {
  classifyInboundRequest,
  type InboundClassificationOutcome,
  type JSONRPCRequest,
  type MessageClassification,
} from '@modelcontextprotocol/server';
import { ENVELOPE_KEYS, envelopeKey, initializeKey, KeyMemo } from './envelope-key.ts';
import { isJsonObject, plainRequest } from './request-id.ts';

/** The headers the classification reads (a WebSocket frame has none: its body is the only signal). */
export type ClassifiedHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a WebSocket message is classified with: no header layer, as on stdio. */
export const NO_HEADERS: ClassifiedHeaders = Object.freeze({});

/** Classifies one message (a POST's parsed body, or a WebSocket frame's message) with its headers. */
export type RequestClassifier = (headers: ClassifiedHeaders, body: unknown) => InboundClassificationOutcome;

/** RFC 9110 optional whitespace around a field value, as the SDK strips it before comparing. */
export function stripOws(value: string): string {
  const isOws = (code: number) => code === 0x20 || code === 0x09;
  if (!isOws(value.charCodeAt(0)) && !isOws(value.charCodeAt(value.length - 1))) return value;
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** A header as the SDK's web-standard view reads it (repeated values joined, as node joins them). */
function header(headers: ClassifiedHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The SDK's classification of a message, without building a web Request. */
function classifyWithSdk(headers: ClassifiedHeaders, body: unknown): InboundClassificationOutcome {
  return classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: header(headers, 'mcp-protocol-version'),
    mcpMethodHeader: header(headers, 'mcp-method'),
    mcpNameHeader: header(headers, 'mcp-name'),
    body,
  });
}

type Json = Record<string, unknown>;
/** Envelopes whose classification is remembered. */
const MAX_ENVELOPES = 256;
const PROTOCOL_VERSION_KEY = ENVELOPE_KEYS[0];

let remembered = 0;

/** Messages classified from a remembered envelope so far (tests: proof the memo answered). */
export function classificationStats(): { remembered: number } {
  return { remembered };
}

/** The `_meta` of a request whose shape the SDK's JSON-RPC schemas judge by `_meta` alone, else undefined. */
function plainRequestMeta(body: unknown): Json | undefined {
  const request = plainRequest(body);
  if (request === undefined || request.method === 'initialize' || !isJsonObject(request.params)) return undefined;
  const meta = request.params._meta;
  return isJsonObject(meta) ? meta : undefined;
}

/**
 * The era of a message as the SDK's entries decide it: its own classifier
 * (`classifyInboundRequest`, which `createMcpHandler` and `isLegacyRequest` run; with no headers
 * it applies the body-only rules of the stdio entry's opening message). `legacy` is 2025-11-25
 * traffic; anything else (a modern route or a refusal of its ladder) is 2026-07-28's.
 *
 * Remembered per envelope: for a JSON-RPC request of the plain shape (only `jsonrpc`, a string
 * or integer `id`, `method` other than `initialize`, `params` whose `_meta` holds only envelope
 * keys) the SDK's verdict depends on the body only through that `_meta` (its schemas and envelope
 * check), and then on the `MCP-Protocol-Version` and `Mcp-Method` headers agreeing with it. Once
 * the SDK has classified such a request as a modern one, another with exactly that envelope and
 * agreeing headers gets the same classification without the SDK's schema parses (a fifth of a
 * 2026-07-28 call's CPU time). Likewise an `initialize` of the plain shape without headers (a
 * WebSocket connection's opening message), whose verdict is a function of its params alone:
 * once the SDK routed one as 2025-era, another with exactly those params is routed so again.
 * Everything else is classified by the SDK every time; tests compare both on a corpus
 * (tests/unit/server/post-classification.test.ts, tests/unit/server/learned-answers.test.ts).
 */
export function createRequestClassifier(): RequestClassifier {
  const modern = new KeyMemo<MessageClassification>(MAX_ENVELOPES);
  const opening = new KeyMemo<InboundClassificationOutcome>(MAX_ENVELOPES);
  return (headers, body) => {
    if (headers === NO_HEADERS) {
      const key = initializeKey(body);
      if (key !== undefined) return openingOf(key, body, opening);
    }
    const meta = plainRequestMeta(body);
    const key = meta === undefined ? undefined : envelopeKey(meta);
    const known = key === undefined ? undefined : modern.get(key);
    if (known !== undefined) {
      const request = body as JSONRPCRequest;
      const version = header(headers, 'mcp-protocol-version');
      const method = header(headers, 'mcp-method');
      if (
        (version === undefined || stripOws(version) === known.revision) &&
        (method === undefined || stripOws(method) === request.method)
      ) {
        remembered++;
        return { kind: 'modern', messageKind: 'request', message: request, classification: known };
      }
    }
    const outcome = classifyWithSdk(headers, body);
    if (key !== undefined && outcome.kind === 'modern' && outcome.messageKind === 'request') {
      const claimed = (meta as Json)[PROTOCOL_VERSION_KEY];
      // Only a claim naming its revision, whose classification is then a function of it alone.
      if (typeof claimed === 'string' && outcome.classification.revision === claimed) {
        modern.remember(key, outcome.classification);
      }
    }
    return outcome;
  };
}

/** The classification of a header-less plain `initialize` whose params' key is `key`, remembered when 2025-era. */
function openingOf(
  key: string,
  body: unknown,
  memo: KeyMemo<InboundClassificationOutcome>,
): InboundClassificationOutcome {
  const known = memo.get(key);
  if (known !== undefined) {
    remembered++;
    return known;
  }
  const outcome = classifyWithSdk(NO_HEADERS, body);
  if (outcome.kind === 'legacy') memo.remember(key, Object.freeze(outcome));
  return outcome;
}
