import type { ClientOptions } from '@modelcontextprotocol/client';

/** The current, stateless MCP revision (no `initialize`; every request carries its version). */
export const MODERN_REVISION = '2026-07-28';
/** The last revision of the `initialize` era. */
export const LEGACY_REVISION = '2025-11-25';

/**
 * Which MCP revision the client speaks (`MCP_PROTOCOL`, `--protocol`):
 * - `auto`: 2026-07-28 when the server offers it (asked with `server/discover`), else the
 *   2025-11-25 `initialize` handshake; what a client should do against servers of either era.
 * - `2026-07-28`: that revision only; a server that does not offer it is refused.
 * - `2025-11-25`: the `initialize` handshake at exactly that revision, without the probe.
 */
export const PROTOCOL_CHOICES = ['auto', MODERN_REVISION, LEGACY_REVISION] as const;

/** One of {@link PROTOCOL_CHOICES}. */
export type ProtocolChoice = (typeof PROTOCOL_CHOICES)[number];

/** The default: speak the current revision, fall back to the older one. */
export const DEFAULT_PROTOCOL: ProtocolChoice = 'auto';

/** True when `value` names one of {@link PROTOCOL_CHOICES}. */
export function isProtocolChoice(value: string): value is ProtocolChoice {
  return (PROTOCOL_CHOICES as readonly string[]).includes(value);
}

/** The SDK `Client` options that make it speak `choice`. */
export function negotiationOptions(
  choice: ProtocolChoice,
): Pick<ClientOptions, 'versionNegotiation' | 'supportedProtocolVersions'> {
  switch (choice) {
    case 'auto':
      return { versionNegotiation: { mode: 'auto' } };
    case MODERN_REVISION:
      return { versionNegotiation: { mode: { pin: MODERN_REVISION } } };
    case LEGACY_REVISION:
      // The SDK's plain legacy connect, offering (and accepting) exactly this revision.
      return { versionNegotiation: { mode: 'legacy' }, supportedProtocolVersions: [LEGACY_REVISION] };
  }
}
