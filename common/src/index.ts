export { CloseCode, RECONNECTABLE_CLOSE_CODES } from './close-codes.ts';
export { type DecodedFrame, decodeFrame, encodeFrame } from './framing.ts';
export { canonicalResource } from './resource-uri.ts';
export { MCP_PATH, MCP_SUBPROTOCOL } from './subprotocol.ts';
export { type BearerChallenge, formatBearerChallenge, parseBearerChallenge } from './www-authenticate.ts';
