/**
 * mcp-server library surface: start an MCP-over-WebSocket file server authorized by OAuth
 * bearer tokens (Keycloak). See docs/transport.md for the wire contract.
 */
export { loadConfig, type ServerConfig } from './config.ts';
export { isServerError, ServerError, type ServerErrorCode } from './errors.ts';
export { createLogger, type Logger, type LoggerOptions } from './log.ts';
export { type ServerHandle, type StartOptions, startServer } from './server.ts';
