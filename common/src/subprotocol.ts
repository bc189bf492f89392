/** The WebSocket subprotocol that carries MCP: one JSON-RPC message per text frame (SEP-1288 draft). */
export const MCP_SUBPROTOCOL = 'mcp';

/** The endpoint path of the MCP server; the bare root `/` is accepted too for the original sample's clients. */
export const MCP_PATH = '/mcp';
