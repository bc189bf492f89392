import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Logger } from './log.ts';

/** Principals (client, subject, user) whose logger is kept; beyond it the set starts over. */
const MAX_PRINCIPALS = 256;

/**
 * The audit logger of a principal (a pino child with its `azp`, `sub` and `user`, plus
 * `bindings`), made once and shared by its requests and connections: a child per request or
 * connection costs more than the lookup, and its bindings string is held by every connection.
 */
export function principalLoggers(base: Logger, bindings: Record<string, string> = {}): (authInfo: AuthInfo) => Logger {
  const children = new Map<string, Logger>();
  return (authInfo) => {
    const { sub, user } = authInfo.extra ?? {};
    const key = JSON.stringify([authInfo.clientId, sub, user]);
    let child = children.get(key);
    if (child === undefined) {
      child = base.child({ azp: authInfo.clientId, sub, user, ...bindings });
      if (children.size >= MAX_PRINCIPALS) children.clear();
      children.set(key, child);
    }
    return child;
  };
}
