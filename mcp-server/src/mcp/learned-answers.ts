/**
 * The opening request of a connection answered from what the SDK answered before on the same
 * shared server: `server/discover` (2026-07-28) and `initialize` (2025-era).
 *
 * Every connection opens with one of them, and the SDK serves it at a cost out of proportion to
 * its answer: the request parsed by its wire schemas (failing response schemas first), the
 * handler, the result encoded and checked — about a quarter of what the server allocates per
 * handshake, most of it left for the next young collection to copy. Its result, though, is a
 * pure function of the server (supported versions, capabilities, instructions, server info: fixed
 * when the shared server is built with its tools) and of the request's params, which the SDK
 * validates: `_ondiscover` reads nothing of the request but its envelope; `_oninitialize`
 * negotiates from `protocolVersion` (and keeps the client's capabilities and info on the server,
 * which the shared server never uses: it sends no requests to clients).
 *
 * So a request of exactly the plain shape whose params an earlier such request was answered with
 * a result gets that result again under its own id: for `server/discover`, params of `_meta`
 * alone, keyed by its envelope (mcp/envelope-key.ts); for `initialize`, params without `_meta`,
 * keyed by their exact JSON. The first of each, any other shape and any answer that was not a
 * result go to the SDK (a differential test compares both paths byte for byte:
 * tests/unit/server/learned-answers.test.ts).
 */
import type { JSONRPCRequest, JSONRPCResultResponse, RequestId } from '@modelcontextprotocol/server';
import type { ExchangeSink } from './dispatch-channels.ts';
import { envelopeKey, KeyMemo } from './envelope-key.ts';
import { isJsonObject, plainRequest } from './request-id.ts';

/** Answers remembered per shared server (one per kind of client: name, version and capabilities). */
const MAX_ANSWERS = 64;

/** The key of a request whose answer may be remembered, or undefined. */
export type AnswerKey = (request: JSONRPCRequest) => string | undefined;

/** A `server/discover` with params of `_meta` alone: its envelope's key. */
export const discoverKey: AnswerKey = (request) => {
  if (request.method !== 'server/discover' || plainRequest(request) === undefined) return undefined;
  const params = request.params;
  if (!isJsonObject(params) || !isJsonObject(params._meta)) return undefined;
  for (const k in params) if (k !== '_meta') return undefined;
  return envelopeKey(params._meta);
};

let answered = 0;

/** Requests answered from memory in this process (tests: proof that the path was taken). */
export function learnedAnswerStats(): { answered: number } {
  return { answered };
}

/** The answers of one shared server to the requests `keyOf` names. */
export class LearnedAnswers {
  readonly #answers = new KeyMemo<JSONRPCResultResponse>(MAX_ANSWERS);
  readonly keyOf: AnswerKey;

  constructor(keyOf: AnswerKey) {
    this.keyOf = keyOf;
  }

  /** The remembered answer for `key`, under `id`; undefined when the SDK has not answered it yet. */
  answer(key: string, id: RequestId): JSONRPCResultResponse | undefined {
    const known = this.#answers.get(key);
    if (known === undefined) return undefined;
    answered++;
    // Spread: the members in the SDK's order, so the frame is the SDK's but for the id.
    return { ...known, id };
  }

  /** `sink`, remembering the SDK's answer to the request of `key` on its way when it is a result. */
  teaching(key: string, sink: ExchangeSink): ExchangeSink {
    const answers = this.#answers;
    return {
      related: (message) => sink.related(message),
      settle(message, refused, frame) {
        // Frozen, deeply: every later answer of this key shares the result.
        if (!refused && 'result' in message) answers.remember(key, deepFreeze(structuredClone(message)));
        sink.settle(message, refused, frame);
      },
      abandon: () => sink.abandon(),
    };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
