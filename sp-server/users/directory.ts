// ManagedUsers as the sp-server needs them: by lower-cased email, across all organizations,
// with the operator's SSO decision from status. Creating one is the JIT path.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Logger } from 'pino';
import { z } from 'zod';
import { API_VERSION, managedUserKind, managedUserSpec, ssoDecision } from '../../crds/api/index.ts';
import { isConflict, type KubeClient } from '../../kube/client.ts';
import { Informer, objectKey, type KubeObject } from '../../kube/informer.ts';
import { pathOf, RESOURCES } from '../../kube/resources.ts';

export interface UserRecord {
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string };
  namespace: string;
  name: string;
  uid: string;
  email: string;
  displayName?: string;
  active: boolean;
  roles: string[];
  sso?: LoginDecision;
}

// The part of the operator's decision logins act on; its message and timestamp are not kept in
// memory for every user.
const loginDecision = ssoDecision.pick({ available: true, enforced: true, profile: true, reason: true });
export type LoginDecision = z.infer<typeof loginDecision>;

/** The ID token's `sub`: the ManagedUser's UID, stable across renames of its email. */
export function subjectOf(user: Pick<UserRecord, 'uid' | 'namespace' | 'name'>): string {
  return user.uid || `${user.namespace}/${user.name}`;
}

export interface UserDirectory {
  /** Every ManagedUser with this email (normally one; several organizations may list the same address). */
  byEmail(email: string): UserRecord[];
  /** The ManagedUser a token's `sub` names (subjectOf). */
  bySubject(sub: string): UserRecord | undefined;
  /** JIT: creates a ManagedUser; resolves to the stored record. */
  create(namespace: string, email: string, roles: string[], displayName?: string): Promise<UserRecord>;
  readonly healthy: boolean;
}

/** A ManagedUser as the API server lists it, read with the CRD's own spec and status schemas. */
const managedUserObject = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string(), uid: z.string().default(''), resourceVersion: z.string().optional() }),
  spec: managedUserSpec,
  status: z.object({ sso: loginDecision.optional() }).optional(),
});

export function toUserRecord(obj: unknown): UserRecord | undefined {
  const r = managedUserObject.safeParse(obj);
  if (!r.success) return undefined;
  const { metadata, spec, status } = r.data;
  return {
    metadata,
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid,
    email: spec.email.toLowerCase(),
    ...(spec.displayName !== undefined ? { displayName: spec.displayName } : {}),
    active: spec.active,
    roles: spec.roles ?? [],
    ...(status?.sso ? { sso: status.sso } : {}),
  };
}

export class KubeUserDirectory implements UserDirectory {
  private readonly informer: Informer<KubeObject>;
  /** email → (namespace/name → record): the one lookup a login makes. */
  private readonly index = new Map<string, Map<string, UserRecord>>();
  private readonly byKey = new Map<string, UserRecord>();
  private readonly bySub = new Map<string, UserRecord>();
  private readonly client: KubeClient;

  constructor(client: KubeClient, logger: Logger) {
    this.client = client;
    this.informer = new Informer<KubeObject>(client, RESOURCES.ManagedUser, {}, logger);
    this.informer.on((event, obj) => {
      const key = objectKey(obj);
      this.unindex(key);
      if (event === 'delete') return;
      const rec = toUserRecord(obj);
      if (!rec) return;
      this.byKey.set(key, rec);
      this.bySub.set(subjectOf(rec), rec);
      let m = this.index.get(rec.email);
      if (!m) this.index.set(rec.email, (m = new Map()));
      m.set(key, rec);
    });
  }

  private unindex(key: string): void {
    const prev = this.byKey.get(key);
    if (!prev) return;
    this.byKey.delete(key);
    this.bySub.delete(subjectOf(prev));
    const m = this.index.get(prev.email);
    m?.delete(key);
    if (m && m.size === 0) this.index.delete(prev.email);
  }

  start(): void {
    this.informer.start();
  }
  waitForSync(ms: number): Promise<boolean> {
    return this.informer.waitForSync(ms);
  }
  close(): Promise<void> {
    return this.informer.stop();
  }
  get healthy(): boolean {
    return this.informer.healthy;
  }

  byEmail(email: string): UserRecord[] {
    const m = this.index.get(email.toLowerCase());
    return m ? [...m.values()] : [];
  }

  bySubject(sub: string): UserRecord | undefined {
    return this.bySub.get(sub);
  }

  async create(namespace: string, email: string, roles: string[], displayName?: string): Promise<UserRecord> {
    // A name derived from the email makes concurrent first logins converge on one object.
    const name = `jit-${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 20)}`;
    const body = {
      apiVersion: API_VERSION,
      kind: managedUserKind.kind,
      metadata: {
        name,
        namespace,
        labels: { 'sso.gatehouse.dev/provisioned-by': 'jit' },
      },
      spec: { email: email.toLowerCase(), roles, ...(displayName ? { displayName } : {}) },
    };
    let stored: KubeObject;
    try {
      stored = await this.client.call<KubeObject>('POST', pathOf('ManagedUser', namespace), { body, query: { fieldManager: 'gatehouse-sp-server' } });
    } catch (err) {
      if (!isConflict(err)) throw err;
      stored = await this.client.call<KubeObject>('GET', pathOf('ManagedUser', namespace, name));
    }
    const rec = toUserRecord(stored);
    if (!rec) throw new Error('created ManagedUser could not be read back');
    if (rec.email !== email.toLowerCase()) throw new Error(`ManagedUser ${namespace}/${name} exists for another email`);
    this.informer.upsert(stored);
    return rec;
  }
}

/** ManagedUser objects (as kubectl would print them, `items` list or plain array) from a file. */
export function loadUsersFile(path: string): UserRecord[] {
  const text = readFileSync(path, 'utf8');
  const raw = (path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as unknown;
  const items = Array.isArray(raw) ? raw : ((raw as { items?: unknown[] })?.items ?? []);
  return items.map((item, i) => {
    const rec = toUserRecord(item);
    if (!rec) throw new Error(`${path}: entry ${i} is not a ManagedUser`);
    return rec;
  });
}

/** A fixed set of users, for unit tests and local runs without a cluster. */
export class StaticUserDirectory implements UserDirectory {
  readonly users: UserRecord[];
  constructor(users: UserRecord[] = []) {
    this.users = users;
  }
  byEmail(email: string): UserRecord[] {
    return this.users.filter((u) => u.email === email.toLowerCase());
  }
  bySubject(sub: string): UserRecord | undefined {
    return this.users.find((u) => subjectOf(u) === sub);
  }
  async create(namespace: string, email: string, roles: string[], displayName?: string): Promise<UserRecord> {
    const name = `jit-${this.users.length}`;
    const rec: UserRecord = {
      metadata: { name, namespace, uid: `uid-${name}` },
      namespace,
      name,
      uid: `uid-${name}`,
      email: email.toLowerCase(),
      ...(displayName ? { displayName } : {}),
      active: true,
      roles,
    };
    this.users.push(rec);
    return rec;
  }
  get healthy(): boolean {
    return true;
  }
}
