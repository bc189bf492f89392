// Which scopes a person's sign-in asks for (MCP authorization, "Scope Selection Strategy" and
// "Scope Challenge Handling"). Pure functions: no I/O.

/** Splits a space-separated scope string into its distinct scopes, in order. */
export function scopesOf(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}

/** The distinct scopes of all of `scopes`, in order of first appearance; undefined when there are none. */
export function unionScopes(...scopes: (string | undefined)[]): string | undefined {
  const all = scopesOf(scopes.join(' '));
  return all.length === 0 ? undefined : all.join(' ');
}

/** What a first sign-in can go by, best first. */
export interface ScopeSources {
  /** What the person asked for (`--scope`, OAUTH_SCOPE): always wins. */
  readonly explicit?: string | undefined;
  /** The `scope` of the server's `WWW-Authenticate` challenge. */
  readonly challenged?: string | undefined;
  /** `scopes_supported` of the server's protected resource metadata (RFC 9728). */
  readonly scopesSupported?: readonly string[] | undefined;
}

/**
 * The scope of a first sign-in: the person's own choice, else the challenge's `scope`, else every
 * scope the resource metadata lists, else none (undefined: the request carries no `scope`, and the
 * authorization server applies its default).
 */
export function selectScope(from: ScopeSources): string | undefined {
  for (const candidate of [from.explicit, from.challenged, from.scopesSupported?.join(' ')]) {
    const scopes = scopesOf(candidate);
    if (scopes.length > 0) return scopes.join(' ');
  }
  return undefined;
}

/**
 * The scope of a step-up after a 403 `insufficient_scope`: the union of what the sign-in asked for
 * and what the challenge names (SEP-2350: previously granted scopes are kept). Undefined when the
 * challenge names nothing the sign-in has not already asked for: asking again would get the same
 * answer, so the caller gives up instead of looping.
 */
export function stepUpScope(requested: string, challenged: string | undefined): string | undefined {
  const before = scopesOf(requested);
  const extra = scopesOf(challenged).filter((s) => !before.includes(s));
  return extra.length === 0 ? undefined : unionScopes(requested, challenged);
}
