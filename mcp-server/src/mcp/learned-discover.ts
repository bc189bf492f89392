/**
 * `server/discover` answered from what the SDK answered before on the same shared server.
 *
 * A 2026-07-28 connection opens with `server/discover`, and the SDK serves it at a cost out of
 * proportion to its answer: the request parsed by its wire schemas (failing response schemas
 * first), the handler, the result encoded and checked — about a quarter of what the server
 * allocates per handshake, most of it left for the next young collection to copy. Its result,
 * though, is a pure function of two things (the SDK's `_ondiscover` and its encode seam): the
 * server (supported versions, capabilities, instructions, server info — fixed when the shared
 * server is built with its tools) and the request's envelope, which the SDK validates.
 *
 * So a request of exactly the plain shape `{ jsonrpc, id, method: "server/discover", params:
 * { _meta: <envelope> } }` whose envelope an earlier such request was answered with a result
 * gets that result again under its own id; the first of each envelope, any other params and any
 * answer that was not a result go to the SDK (a differential test compares both paths byte for
 * byte: tests/unit/server/learned-discover.test.ts).
 */
import type { JSONRPCRequest, JSONRPCResultResponse, RequestId } from '@modelcontextprotocol/server';
import type { ExchangeSink } from './dispatch-channels.ts';
import { envelopeKey, KeyMemo } from './envelope-key.ts';
import { isJsonObject, plainRequest } from './request-id.ts';

/** Envelopes whose answer is remembered (one per kind of client: name, version and capabilities). */
const MAX_ENVELOPES = 64;

const DISCOVER = 'server/discover';

let answered = 0;

/** Probes answered from memory in this process (tests: proof that the path was taken). */
export function learnedDiscoverStats(): { answered: number } {
  return { answered };
}

/** The answers of one shared server to `server/discover`, by envelope. */
export class LearnedDiscover {
  readonly #answers = new KeyMemo<JSONRPCResultResponse>(MAX_ENVELOPES);

  /** The envelope key of `request` when it is a probe of the one shape answered here, else undefined. */
  keyOf(request: JSONRPCRequest): string | undefined {
    if (request.method !== DISCOVER || plainRequest(request) === undefined) return undefined;
    const params = request.params;
    if (!isJsonObject(params) || !isJsonObject(params._meta)) return undefined;
    for (const k in params) if (k !== '_meta') return undefined;
    return envelopeKey(params._meta);
  }

  /** The remembered answer for `key`, under `id`; undefined when the SDK has not answered this envelope yet. */
  answer(key: string, id: RequestId): JSONRPCResultResponse | undefined {
    const known = this.#answers.get(key);
    if (known === undefined) return undefined;
    answered++;
    // Spread: the members in the SDK's order, so the frame is the SDK's but for the id.
    return { ...known, id };
  }

  /** `sink`, remembering the SDK's answer to the probe of envelope `key` on its way when it is a result. */
  teaching(key: string, sink: ExchangeSink): ExchangeSink {
    const answers = this.#answers;
    return {
      related: (message) => sink.related(message),
      settle(message, refused, frame) {
        // Frozen, deeply: every later answer of this envelope shares the result.
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
