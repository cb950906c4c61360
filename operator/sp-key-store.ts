// Where SP key pairs live: one Secret per organization namespace, `gatehouse-sp-keys`, with one
// group of data keys per SSOProfile (`<profile>.tls.key`, `<profile>.tls.crt`, `<profile>.uid`,
// …). A fixed name lets RBAC narrow the operator's Secret access to its own Secrets by
// resourceNames. Entries of profiles that no longer exist are dropped at every write and when a
// profile is deleted; the Secret lists every profile with an entry as an owner (not controller),
// so the garbage collector removes it once the last one is gone.
import type { SSOProfile } from '../crds/api/index.ts';
import { isConflict, isNotFound, resourcePath } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import { FIELD_MANAGER, type Context, type SecretObject } from './context.ts';

export const SP_KEYS_SECRET_NAME = 'gatehouse-sp-keys';
/** Marks the Secret as Gatehouse's: a Secret of that name without it is never taken over. */
export const SP_KEYS_LABEL = 'sso.gatehouse.dev/sp-keys';
/** The fields kept per profile (base64 in the Secret, like any Secret data). */
const FIELDS = ['tls.key', 'tls.crt', 'test-token', 'test-email', 'test-expires-at', 'test-renewal', 'uid'] as const;
const ATTEMPTS = 4;

type StoreContext = Pick<Context, 'client' | 'spKeySecrets' | 'profiles'>;

/** The Secret exists but is someone else's: a configuration problem, not a failed reconcile. */
export class SPKeySecretTaken extends Error {
  constructor(namespace: string) {
    super(`Secret ${namespace}/${SP_KEYS_SECRET_NAME} already exists and was not created by Gatehouse; delete or rename it`);
  }
}

/** The profile a data key belongs to, or undefined for keys that are not Gatehouse's. */
function profileOfKey(key: string): string | undefined {
  const field = FIELDS.find((f) => key.endsWith(`.${f}`));
  return field ? key.slice(0, -field.length - 1) : undefined;
}

const decode = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));

/** One profile's fields, base64 as stored (`uid` among them). */
export function entryOf(secret: SecretObject | undefined, profile: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = secret?.data?.[`${profile}.${f}`];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

async function read(ctx: StoreContext, namespace: string, fresh: boolean): Promise<SecretObject | undefined> {
  if (!fresh) return ctx.spKeySecrets.get(namespace, SP_KEYS_SECRET_NAME);
  try {
    return await ctx.client.call<SecretObject>('GET', resourcePath(RESOURCES.Secret, namespace, SP_KEYS_SECRET_NAME));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function assertOurs(secret: SecretObject | undefined, namespace: string): void {
  if (secret && secret.metadata.labels?.[SP_KEYS_LABEL] !== 'true') throw new SPKeySecretTaken(namespace);
}

/** The entries worth keeping: those of profiles that exist now under the same UID. */
function liveEntries(ctx: StoreContext, namespace: string, secret: SecretObject | undefined, except: string): { data: Record<string, string>; owners: SSOProfile[] } {
  const data: Record<string, string> = {};
  const owners = new Map<string, SSOProfile>();
  for (const [key, value] of Object.entries(secret?.data ?? {})) {
    const name = profileOfKey(key);
    if (name === undefined || name === except) continue;
    const p = ctx.profiles.get(namespace, name);
    if (!p?.metadata.uid || decode(secret?.data?.[`${name}.uid`]) !== p.metadata.uid) continue;
    data[key] = value;
    owners.set(name, p);
  }
  return { data, owners: [...owners.values()] };
}

async function write(ctx: StoreContext, namespace: string, secret: SecretObject | undefined, data: Record<string, string>, owners: SSOProfile[]): Promise<void> {
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: SP_KEYS_SECRET_NAME,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER, [SP_KEYS_LABEL]: 'true' },
      ownerReferences: owners.map((p) => ({ apiVersion: p.apiVersion, kind: 'SSOProfile', name: p.metadata.name, uid: p.metadata.uid })),
      ...(secret?.metadata.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}),
    },
    data,
  };
  if (secret) await ctx.client.call('PUT', resourcePath(RESOURCES.Secret, namespace, SP_KEYS_SECRET_NAME), { body });
  else await ctx.client.call('POST', resourcePath(RESOURCES.Secret, namespace), { body });
}

/**
 * Read-modify-write of one profile's entry: `decide` gets what is stored for the profile (or an
 * empty entry) and returns the entry to store, or undefined to keep things as they are. Profiles
 * of a namespace share the Secret, so a write that lost a race is retried on a fresh read.
 */
export async function updateSPKeyEntry<T>(ctx: StoreContext, p: SSOProfile, decide: (stored: Record<string, string>) => { store?: Record<string, string>; result: T }): Promise<T> {
  const ns = p.metadata.namespace;
  const name = p.metadata.name;
  for (let attempt = 0; ; attempt++) {
    const secret = await read(ctx, ns, attempt > 0);
    assertOurs(secret, ns);
    const { store, result } = decide(entryOf(secret, name));
    if (!store) return result;
    const { data, owners } = liveEntries(ctx, ns, secret, name);
    for (const [f, v] of Object.entries(store)) data[`${name}.${f}`] = v;
    data[`${name}.uid`] = Buffer.from(p.metadata.uid as string).toString('base64');
    try {
      await write(ctx, ns, secret, data, [...owners, p]);
      return result;
    } catch (err) {
      if (!isConflict(err) || attempt + 1 >= ATTEMPTS) throw err;
    }
  }
}

/** Drops a deleted profile's entry (and any other dead one). Nothing to do: no write. */
export async function forgetSPKeyEntry(ctx: StoreContext, namespace: string, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const secret = await read(ctx, namespace, attempt > 0);
    if (!secret || secret.metadata.labels?.[SP_KEYS_LABEL] !== 'true' || secret.data?.[`${name}.uid`] === undefined) return;
    if (ctx.profiles.get(namespace, name)) return;
    const { data, owners } = liveEntries(ctx, namespace, secret, name);
    try {
      await write(ctx, namespace, secret, data, owners);
      return;
    } catch (err) {
      if (!(isConflict(err) || isNotFound(err)) || attempt + 1 >= ATTEMPTS) throw err;
    }
  }
}
