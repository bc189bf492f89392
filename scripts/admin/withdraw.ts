// Withdrawing access from tokens already issued (Keycloak's not-before), as functions over an
// Admin REST API client bound to a realm. See docs/operations.md.
import { setTimeout as delay } from 'node:timers/promises';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { AdminError, toAdminError } from './errors.ts';
import { findClient, setClientScope } from './operations.ts';

/** What a not-before change did: the value set (epoch seconds) and what it was. */
export interface NotBeforeResult {
  readonly target: string;
  readonly previous: number;
  readonly notBefore: number;
}

/**
 * The not-before to set, after waiting for the next whole second: Keycloak compares a token's
 * `iat` (whole seconds) with `iat < notBefore`, so "now" would spare tokens issued earlier in the
 * same second, while the next second's start withdraws every token issued before this call and
 * none requested after it returns (with this machine's clock in step with Keycloak's, as NTP keeps it).
 */
async function nextSecond(): Promise<number> {
  const from = Math.floor(Date.now() / 1000);
  // A timer may fire a millisecond before the wall clock turns: wait until it has.
  while (Math.floor(Date.now() / 1000) <= from) await delay(1001 - (Date.now() % 1000));
  return Math.floor(Date.now() / 1000);
}

/**
 * Clients > (client) > Advanced > Revocation > Set to now: every token the client holds that was
 * issued before now turns inactive at introspection (the MCP server closes its connections within
 * REVOCATION_CHECK_INTERVAL_MS); tokens it requests from now on are valid.
 * @throws AdminError `not_found` (client) or any Admin REST API failure.
 */
export async function setClientNotBefore(kc: KcAdminClient, clientId: string): Promise<NotBeforeResult> {
  const client = await findClient(kc, clientId);
  const notBefore = await nextSecond();
  try {
    await kc.clients.update({ id: client.id }, { ...client, notBefore });
  } catch (err) {
    throw toAdminError(err, `set the not-before of ${clientId}`);
  }
  return { target: `client ${clientId}`, previous: client.notBefore ?? 0, notBefore };
}

/**
 * Realm settings > Sessions > Revocation > Set to now: every token of every client of the realm
 * issued before now turns inactive.
 * @throws AdminError `not_found` (realm) or any Admin REST API failure.
 */
export async function setRealmNotBefore(kc: KcAdminClient): Promise<NotBeforeResult> {
  const realm = kc.realmName;
  const notBefore = await nextSecond();
  try {
    const rep = await kc.realms.findOne({ realm });
    if (!rep) throw new AdminError('not_found', `realm ${realm} not found`);
    await kc.realms.update({ realm }, { notBefore });
    return { target: `realm ${realm}`, previous: rep.notBefore ?? 0, notBefore };
  } catch (err) {
    throw err instanceof AdminError ? err : toAdminError(err, `set the not-before of realm ${realm}`);
  }
}

/**
 * Removing a scope from live connections: unlink the client scope (new tokens can no longer
 * carry it), then set the client's not-before to now (tokens already issued, which still carry
 * it, turn inactive). In this order: the other order leaves a window in which a token requested
 * between the two steps still carries the scope.
 * @throws AdminError `not_found` (client or scope), `conflict`, or any Admin REST API failure.
 */
export async function withdrawScope(
  kc: KcAdminClient,
  clientId: string,
  scope: string,
): Promise<{ unlinked: boolean; notBefore: NotBeforeResult }> {
  const unlinked = (await setClientScope(kc, clientId, scope, 'revoke')).changed;
  return { unlinked, notBefore: await setClientNotBefore(kc, clientId) };
}
