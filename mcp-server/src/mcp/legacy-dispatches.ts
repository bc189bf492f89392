import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { Logger } from '../log.ts';
import {
  createLegacyDispatch,
  type DispatchServerRequest,
  NO_CREDENTIAL,
  type SharedDispatch,
} from './modern-dispatch.ts';
import type { Session } from './session.ts';

/** The 2025-era methods a shared server answers for a connection; anything else gets the connection a server of its own. */
export const LEGACY_DISPATCHED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'tools/list', 'ping']);

/** The server's 2025-era dispatches, one per negotiated version, each made at its first use. */
export interface LegacyDispatches {
  /** The dispatch of `version`; undefined for a version the SDK does not negotiate. */
  of(version: string): SharedDispatch | undefined;
  close(): Promise<void>;
}

/**
 * One shared server per 2025-era version a WebSocket connection negotiated (at most one per
 * version the SDK lists, so no client can make more), built by `createSession` as a
 * connection's own server is, except that each request brings its token and audit logger.
 */
export function createLegacyDispatches(
  createSession: (request: DispatchServerRequest) => Session,
  logger: Logger,
): LegacyDispatches {
  const dispatches = new Map<string, SharedDispatch>();
  return {
    of(version) {
      if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
      let dispatch = dispatches.get(version);
      if (dispatch === undefined) {
        dispatch = createLegacyDispatch(
          {
            createServer: (requestLogger) => createSession({ authInfo: () => NO_CREDENTIAL, logger: requestLogger }),
            logger,
            onerror: (err) => logger.debug({ event: 'protocol_error', error: err.message }),
          },
          version,
        );
        dispatches.set(version, dispatch);
      }
      return dispatch;
    },
    async close() {
      await Promise.all([...dispatches.values()].map((d) => d.close()));
      dispatches.clear();
    },
  };
}
