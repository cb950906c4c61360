// A SCIM service provider for tests: a fastify app with only the SCIM plugin, on a loopback port,
// against the test control plane, with organizations (namespace + Verified domains + token).
import { createHash, randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { KubeClient, type RequestEvent } from '../../kube/client.ts';
import { loadCredentials } from '../../kube/kubeconfig.ts';
import type { SPConfig } from '../../crds/api/index.ts';
import { createMetrics, type Metrics } from '../../sp-server/metrics.ts';
import { SCIM_PREFIX, scimPlugin } from '../../sp-server/scim/plugin.ts';
import { tokenVerifierFromConfig, verifiedDomainsFromConfig } from '../../sp-server/scim/token.ts';
import { create, createNamespace, crPath, deleteNamespace, getIfExists, testClient } from './kube.ts';

export interface Org {
  namespace: string;
  token: string;
}

export class ScimHarness {
  /** The shared client, as the sp-server gives it to the SCIM plugin; the harness uses it too. */
  readonly client: KubeClient;
  /** The registry the SCIM plugin counts its requests in, as the sp-server's /metrics serves it. */
  readonly metrics: Metrics = createMetrics();
  readonly app: FastifyInstance;
  private readonly config: SPConfig = { formatVersion: 1, organizations: [] };
  baseURL = '';

  private constructor(client: KubeClient) {
    this.client = client;
    const logger: FastifyBaseLogger = pino({ level: process.env.SCIM_TEST_LOG ?? 'silent' });
    // A generous server-wide body limit: SCIM must hold to its own (limits.ts) whatever the app's is.
    this.app = Fastify({ loggerInstance: logger, bodyLimit: 8 * 1024 * 1024 });
    void this.app.register(scimPlugin, {
      prefix: SCIM_PREFIX,
      kube: client,
      tokenVerifier: tokenVerifierFromConfig(() => this.config), verifiedDomains: verifiedDomainsFromConfig(() => this.config),
      logger,
      metrics: this.metrics,
    });
  }

  /** With `onRequest`, every API-server request of the SCIM plugin (and of the harness) is reported to it. */
  static async start(kubeconfigPath: string, o: { onRequest?: (event: RequestEvent) => void } = {}): Promise<ScimHarness> {
    const client = o.onRequest
      ? await KubeClient.create(await loadCredentials(kubeconfigPath), { userAgent: 'gatehouse-tests', connections: 16, onRequest: o.onRequest })
      : await testClient(kubeconfigPath);
    const h = new ScimHarness(client);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = h.app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    h.baseURL = `http://127.0.0.1:${addr.port}${SCIM_PREFIX}`;
    return h;
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.client.close();
  }

  /** A namespace with the given domains Verified (status set as the operator would) and a SCIM token. */
  async organization(prefix: string, verified: string[], unverified: string[] = []): Promise<Org> {
    const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
    await createNamespace(this.client, namespace);
    for (const domain of [...verified, ...unverified]) {
      const name = domain.replace(/\./g, '-');
      await create(this.client, 'verifieddomains', namespace, { kind: 'VerifiedDomain', metadata: { name }, spec: { domain } });
      const ok = verified.includes(domain);
      await this.client.call('PATCH', `${crPath('verifieddomains', namespace, name)}/status`, {
        contentType: 'application/json-patch+json',
        body: [
          {
            op: 'add',
            path: '/status',
            value: {
              conditions: [
                {
                  type: 'Verified',
                  status: ok ? 'True' : 'False',
                  reason: ok ? 'Verified' : 'RecordNotFound',
                  message: ok ? 'TXT record found' : 'no TXT record yet',
                  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
                },
              ],
            },
          },
        ],
      });
    }
    const token = randomBytes(32).toString('base64url');
    this.config.organizations.push({
      namespace,
      verifiedDomains: verified,
      profiles: [],
      scim: { tokenSHA256: [createHash('sha256').update(token).digest('hex')] },
    });
    return { namespace, token };
  }

  /** Writes Verified=True into a VerifiedDomain's status the way a tenant could, without the operator's proof. */
  async forgeVerified(org: Org, domain: string): Promise<void> {
    const name = domain.replace(/\./g, '-');
    await this.client.call('PATCH', `${crPath('verifieddomains', org.namespace, name)}/status`, {
      contentType: 'application/merge-patch+json',
      body: { status: { conditions: [{ type: 'Verified', status: 'True', reason: 'Verified', message: 'forged', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } },
    });
  }

  async removeOrganization(org: Org): Promise<void> {
    this.config.organizations = this.config.organizations.filter((o) => o.namespace !== org.namespace);
    // No namespace controller in the test control plane: delete what lives in it, then the namespace.
    for (const plural of ['managedusers', 'managedgroups', 'verifieddomains'] as const) {
      await this.client.call('DELETE', crPath(plural, org.namespace));
    }
    await deleteNamespace(this.client, org.namespace);
  }

  async managedUser(namespace: string, name: string): Promise<ManagedUserView | undefined> {
    return getIfExists<ManagedUserView>(this.client, crPath('managedusers', namespace, name));
  }

  async managedUsers(namespace: string): Promise<ManagedUserView[]> {
    return (await this.client.call<{ items: ManagedUserView[] }>('GET', crPath('managedusers', namespace))).items;
  }

  async managedGroup(namespace: string, name: string): Promise<{ spec: { displayName: string; members?: string[]; externalId?: string } }> {
    return this.client.call('GET', crPath('managedgroups', namespace, name));
  }

  /** One SCIM request; body objects are sent as application/scim+json unless told otherwise. */
  async request(
    org: Org | { namespace: string; token?: string },
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ScimResponse> {
    const h: Record<string, string> = { accept: 'application/scim+json', ...headers };
    if (org.token !== undefined && !('authorization' in h)) h.authorization = `Bearer ${org.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/scim+json';
    }
    const res = await fetch(`${this.baseURL}/${org.namespace}${path}`, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { raw: text };
    }
    return { status: res.status, headers: res.headers, body: json };
  }
}

export interface ScimResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    id?: string;
    Resources?: Array<Record<string, unknown> & { id: string }>;
    totalResults?: number;
    scimType?: string;
    status?: string;
    schemas?: string[];
  };
}

export interface ManagedUserView {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { email: string; active: boolean; displayName?: string; roles?: string[]; sso?: string };
}

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
