// Starts the real server on port 0 against a LocalIssuer, with a silent logger.
import { Writable } from 'node:stream';
import {
  createLogger,
  loadConfig,
  type ServerHandle,
  type StartOptions,
  startServer,
} from '../../../../mcp-server/src/index.ts';
import type { LocalIssuer } from './local-issuer.ts';

/** Collected JSON log lines (to assert audit events). */
export interface TestServer extends ServerHandle {
  readonly logs: Record<string, unknown>[];
}

export async function startTestServer(
  issuer: LocalIssuer,
  root: string,
  env: Record<string, string> = {},
  options: Omit<StartOptions, 'logger'> = {},
): Promise<TestServer> {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TARGET_DIR: root,
    OAUTH_ISSUER: issuer.issuer,
    // LocalIssuer signs aud mcp-server; PORT=0 has no canonical URI to derive the audience from.
    OAUTH_AUDIENCE: 'mcp-server',
    CLOCK_TOLERANCE_SECONDS: '0',
    SHUTDOWN_GRACE_MS: '500',
    ...env,
  });
  const server = await startServer(config, { ...options, logger: createLogger({ level: 'debug', destination }) });
  await server.ready;
  return Object.assign(server, { logs });
}
