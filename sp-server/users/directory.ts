// ManagedUsers as the sp-server needs them: by lower-cased email, across all organizations,
// with the operator's SSO decision from status. Creating one is the JIT path.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Logger } from 'pino';
import { z } from 'zod';
import { API_VERSION, GROUP, VERSION, managedUserKind, managedUserSpec, ssoDecision } from '../../crds/api/index.ts';
import { KubeError, type KubeClient } from '../kube/client.ts';
import { Reflector, type KubeObject } from '../kube/reflector.ts';

export interface UserRecord extends KubeObject {
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

export interface UserDirectory {
  /** Every ManagedUser with this email (normally one; several organizations may list the same address). */
  byEmail(email: string): UserRecord[];
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

const COLLECTION = `/apis/${GROUP}/${VERSION}/${managedUserKind.plural}`;

export class KubeUserDirectory implements UserDirectory {
  private readonly reflector: Reflector<UserRecord>;
  private readonly index = new Map<string, Map<string, UserRecord>>();
  private readonly client: KubeClient;

  constructor(client: KubeClient, logger: Logger) {
    this.client = client;
    this.reflector = new Reflector<UserRecord>({
      client,
      path: COLLECTION,
      logger,
      accept: toUserRecord,
      onReset: () => this.index.clear(),
      onSet: (key, value, prev) => {
        if (prev) this.unindex(key, prev);
        let m = this.index.get(value.email);
        if (!m) this.index.set(value.email, (m = new Map()));
        m.set(key, value);
      },
      onDelete: (key, prev) => this.unindex(key, prev),
    });
  }

  private unindex(key: string, rec: UserRecord): void {
    const m = this.index.get(rec.email);
    m?.delete(key);
    if (m && m.size === 0) this.index.delete(rec.email);
  }

  start(): void {
    this.reflector.start();
  }
  waitForSync(ms: number): Promise<boolean> {
    return this.reflector.waitForSync(ms);
  }
  close(): Promise<void> {
    return this.reflector.close();
  }
  get healthy(): boolean {
    return this.reflector.healthy;
  }

  byEmail(email: string): UserRecord[] {
    const m = this.index.get(email.toLowerCase());
    return m ? [...m.values()] : [];
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
    const collection = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${managedUserKind.plural}`;
    let res = await this.client.request('POST', `${collection}?fieldManager=gatehouse-sp-server`, body);
    if (res.status === 409) res = await this.client.request('GET', `${collection}/${name}`);
    if (res.status >= 300) throw new KubeError(res.status, `creating ManagedUser: ${res.status} ${res.text.slice(0, 300)}`);
    const rec = toUserRecord(res.body);
    if (!rec) throw new Error('created ManagedUser could not be read back');
    if (rec.email !== email.toLowerCase()) throw new Error(`ManagedUser ${namespace}/${name} exists for another email`);
    this.reflector.upsert(res.body as KubeObject);
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
