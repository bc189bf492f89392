// The console operations of docs/operations.md as functions over an Admin REST API client bound to a realm.
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import { AdminError, toAdminError } from './errors.ts';

const KEY_PROVIDER_TYPE = 'org.keycloak.keys.KeyProvider';

/** What happens to the previously active RS256 key providers after a new signing key is added. */
export type RetireAction = 'keep' | 'passive' | 'disable' | 'delete';
export const RETIRE_ACTIONS: readonly RetireAction[] = ['keep', 'passive', 'disable', 'delete'];

export type ScopeKind = 'optional' | 'default';

async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    throw toAdminError(err, what);
  }
}

/**
 * The client with this `clientId` (the name shown in the console, not the internal id).
 * @throws AdminError `not_found`.
 */
export async function findClient(kc: KcAdminClient, clientId: string): Promise<ClientRepresentation & { id: string }> {
  const [client] = await call(`look up client ${clientId}`, () => kc.clients.find({ clientId }));
  if (!client?.id) throw new AdminError('not_found', `client ${clientId} not found in realm ${kc.realmName}`);
  return client as ClientRepresentation & { id: string };
}

/**
 * Clients > (client) > Credentials > Regenerate. The old secret stops working at once; access tokens
 * already issued stay valid until `exp`.
 * @throws AdminError `not_found` (client), `conflict` (public client, which has no secret).
 */
export async function rotateClientSecret(
  kc: KcAdminClient,
  clientId: string,
): Promise<{ clientId: string; secret: string }> {
  const client = await findClient(kc, clientId);
  if (client.publicClient || client.bearerOnly) {
    throw new AdminError('conflict', `client ${clientId} is not confidential: it has no secret to rotate`);
  }
  const credential = await call(`regenerate the secret of ${clientId}`, () =>
    kc.clients.generateNewClientSecret({ id: client.id }),
  );
  if (!credential.value) throw new AdminError('keycloak', `Keycloak returned no secret for ${clientId}`);
  return { clientId, secret: credential.value };
}

/** Options of {@link rotateSigningKey}. */
export interface RotateSigningKeyOptions {
  /** What to do with the previously active RS256 providers. Default `keep` (they stay active, at lower priority). */
  retire?: RetireAction;
}

/** Result of {@link rotateSigningKey}: the new key and what happened to each previously active RS256 provider. */
export interface RotateSigningKeyResult {
  newKid: string;
  newProviderId: string;
  /** Priority given to the new provider (higher than every RS256 key before it). */
  priority: number;
  retired: { providerId: string; kid: string; action: RetireAction }[];
}

/**
 * Realm settings > Keys > Add provider > rsa-generated with a higher priority, then retires the
 * previously active RS256 providers: `passive` keeps them in the JWKS (tokens they signed still
 * verify), `disable` and `delete` take them out of it.
 * @throws AdminError when the new key does not become the realm's active RS256 key.
 */
export async function rotateSigningKey(
  kc: KcAdminClient,
  options: RotateSigningKeyOptions = {},
): Promise<RotateSigningKeyResult> {
  const retire = options.retire ?? 'keep';
  if (!RETIRE_ACTIONS.includes(retire)) throw new TypeError(`retire must be one of ${RETIRE_ACTIONS.join(', ')}`);
  const realm = kc.realmName;
  const realmRep = await call(`read realm ${realm}`, () => kc.realms.findOne({ realm }));
  if (!realmRep?.id) throw new AdminError('not_found', `realm ${realm} not found`);
  const before = await call(`list the keys of ${realm}`, () => kc.realms.getKeys({ realm }));
  const rs256 = (before.keys ?? []).filter((k) => k.algorithm === 'RS256');
  const previous = rs256.filter((k) => k.status === 'ACTIVE' && k.providerId && k.kid);
  const priority = Math.max(0, ...rs256.map((k) => k.providerPriority ?? 0)) + 100;

  const name = `rsa-generated-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}`;
  const { id: newProviderId } = await call(`add an rsa-generated key provider to ${realm}`, () =>
    kc.components.create({
      name,
      providerId: 'rsa-generated',
      providerType: KEY_PROVIDER_TYPE,
      parentId: realmRep.id,
      config: {
        priority: [String(priority)],
        algorithm: ['RS256'],
        keySize: ['2048'],
        active: ['true'],
        enabled: ['true'],
      },
    }),
  );

  const after = await call(`list the keys of ${realm}`, () => kc.realms.getKeys({ realm }));
  const newKey = (after.keys ?? []).find((k) => k.providerId === newProviderId && k.algorithm === 'RS256');
  if (!newKey?.kid) throw new AdminError('keycloak', `the new key provider ${newProviderId} has no RS256 key`);
  if (after.active?.RS256 !== newKey.kid) {
    throw new AdminError(
      'keycloak',
      `the new key ${newKey.kid} was added but ${after.active?.RS256 ?? 'no key'} still signs RS256 tokens`,
    );
  }

  const retired: RotateSigningKeyResult['retired'] = [];
  for (const key of previous) {
    const providerId = key.providerId!;
    if (retire === 'delete') {
      await call(`delete key provider ${providerId}`, () => kc.components.del({ id: providerId }));
    } else if (retire !== 'keep') {
      const component = await call(`read key provider ${providerId}`, () => kc.components.findOne({ id: providerId }));
      if (!component) throw new AdminError('not_found', `key provider ${providerId} not found`);
      // The update merges config keys (secret values such as privateKey are kept), so send only the flag.
      const flag: Record<string, string[]> = retire === 'passive' ? { active: ['false'] } : { enabled: ['false'] };
      await call(`set key provider ${providerId} ${retire}`, () =>
        kc.components.update({ id: providerId }, { ...component, config: { ...component.config, ...flag } }),
      );
    }
    retired.push({ providerId, kid: key.kid!, action: retire });
  }
  return { newKid: newKey.kid, newProviderId, priority, retired };
}

async function findScope(kc: KcAdminClient, scopeName: string): Promise<ClientScopeRepresentation & { id: string }> {
  const scopes = await call('list client scopes', () => kc.clientScopes.find());
  const scope = scopes.find((s) => s.name === scopeName);
  if (!scope?.id) throw new AdminError('not_found', `client scope ${scopeName} not found in realm ${kc.realmName}`);
  return scope as ClientScopeRepresentation & { id: string };
}

/** The client scopes linked to a client, by name. */
export interface ClientScopes {
  clientId: string;
  default: string[];
  optional: string[];
}

/**
 * Clients > (client) > Client scopes: the default and optional scopes linked to the client.
 * @throws AdminError `not_found` (client).
 */
export async function listClientScopes(kc: KcAdminClient, clientId: string): Promise<ClientScopes> {
  const { id } = await findClient(kc, clientId);
  const [def, opt] = await Promise.all([
    call(`list default scopes of ${clientId}`, () => kc.clients.listDefaultClientScopes({ id })),
    call(`list optional scopes of ${clientId}`, () => kc.clients.listOptionalClientScopes({ id })),
  ]);
  const names = (list: ClientScopeRepresentation[]) => list.map((s) => s.name ?? s.id ?? '?').sort();
  return { clientId, default: names(def), optional: names(opt) };
}

/** Result of {@link setClientScope}; `changed` is false when the link already was as asked. */
export interface SetClientScopeResult {
  clientId: string;
  scope: string;
  kind: ScopeKind;
  action: 'grant' | 'revoke';
  changed: boolean;
}

/**
 * Clients > (client) > Client scopes > Add client scope (as Optional or Default) / Remove.
 * Idempotent. A revoked scope stays in tokens already issued until `exp`; new requests for it get
 * 400 `invalid_scope`.
 * @throws AdminError `not_found` (client or scope), `conflict` when the scope is linked as the other kind.
 */
export async function setClientScope(
  kc: KcAdminClient,
  clientId: string,
  scopeName: string,
  action: 'grant' | 'revoke',
  kind: ScopeKind = 'optional',
): Promise<SetClientScopeResult> {
  if (action !== 'grant' && action !== 'revoke') throw new TypeError('action must be grant or revoke');
  if (kind !== 'optional' && kind !== 'default') throw new TypeError('kind must be optional or default');
  const [client, scope, linked] = await Promise.all([
    findClient(kc, clientId),
    findScope(kc, scopeName),
    listClientScopes(kc, clientId),
  ]);
  const other: ScopeKind = kind === 'optional' ? 'default' : 'optional';
  const isLinked = linked[kind].includes(scopeName);
  const result = { clientId, scope: scopeName, kind, action };
  if ((action === 'grant') === isLinked) return { ...result, changed: false };
  if (linked[other].includes(scopeName)) {
    throw new AdminError(
      'conflict',
      `${scopeName} is a ${other} scope of ${clientId}, not ${kind}: use --${other} to ${action} that link`,
    );
  }
  const ids = { id: client.id, clientScopeId: scope.id };
  const what = `${action} ${kind} scope ${scopeName} on ${clientId}`;
  if (kind === 'optional') {
    await call(what, () =>
      action === 'grant' ? kc.clients.addOptionalClientScope(ids) : kc.clients.delOptionalClientScope(ids),
    );
  } else {
    await call(what, () =>
      action === 'grant' ? kc.clients.addDefaultClientScope(ids) : kc.clients.delDefaultClientScope(ids),
    );
  }
  return { ...result, changed: true };
}

/**
 * Realm settings > Tokens > Access Token Lifespan, in seconds. Tokens already issued keep their `exp`.
 * @throws TypeError when `seconds` is not a positive integer.
 */
export async function setAccessTokenLifespan(
  kc: KcAdminClient,
  seconds: number,
): Promise<{ realm: string; previous: number | undefined; seconds: number }> {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new TypeError('seconds must be a positive integer');
  const realm = kc.realmName;
  const rep = await call(`read realm ${realm}`, () => kc.realms.findOne({ realm }));
  if (!rep) throw new AdminError('not_found', `realm ${realm} not found`);
  await call(`set the access token lifespan of ${realm}`, () =>
    kc.realms.update({ realm }, { accessTokenLifespan: seconds }),
  );
  return { realm, previous: rep.accessTokenLifespan, seconds };
}

/** The realm's access token lifespan in seconds. */
export async function getAccessTokenLifespan(kc: KcAdminClient): Promise<number | undefined> {
  const realm = kc.realmName;
  const rep = await call(`read realm ${realm}`, () => kc.realms.findOne({ realm }));
  if (!rep) throw new AdminError('not_found', `realm ${realm} not found`);
  return rep.accessTokenLifespan;
}
