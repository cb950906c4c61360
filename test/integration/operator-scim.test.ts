// The SCIM token chain with the real operator process: labelling an organization's namespace
// makes the operator create its gatehouse-scim-token Secret and render exactly that token's
// digest; replacing or deleting the Secret rotates the digest; unlabelling removes SCIM from the
// render. The SCIM plugin, reading the operator's rendered config Secret, accepts the token in
// the Secret and refuses rotated-away ones.
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubeClient } from '../../kube/client.ts';
import { SCIM_ENABLED_LABEL, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from '../../operator/scim-token.ts';
import { ORGANIZATION_DISPLAY_NAME_ANNOTATION, SP_CONFIG_HASH_ANNOTATION, SP_CONFIG_SECRET_KEY, spConfig, type SPConfig } from '../../crds/api/index.ts';
import { createMetrics } from '../../sp-server/metrics.ts';
import { SCIM_PREFIX, scimPlugin } from '../../sp-server/scim/plugin.ts';
import { tokenVerifierFromConfig, verifiedDomainsFromConfig } from '../../sp-server/scim/token.ts';
import { createNamespace, deleteNamespace, getIfExists, secretPath, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-scimop-system';
const org = 'gh-scimop-org';
// Watched but never labelled: a token Secret there is not SCIM's business.
const other = 'gh-scimop-other';
const configSecret = 'gatehouse-sp-config';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
type SecretBody = { metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> }; data?: Record<string, string> };

describe('operator: SCIM token per organization', () => {
  let client: KubeClient;
  let op: OperatorProcess;
  const app = Fastify();
  // What the sp-server would hold: the last rendered config read from the operator's Secret.
  let current: SPConfig | undefined;

  const readSecret = (ns: string, name: string) => client.call<SecretBody>('GET', secretPath(ns, name));
  const tokenSecret = (ns: string) => getIfExists<SecretBody>(client, secretPath(ns, SCIM_TOKEN_SECRET_NAME));
  /** Reads and validates the rendered config the way the sp-server does (contract schema, hash annotation). */
  async function loadConfig(): Promise<SPConfig | undefined> {
    const s = await getIfExists<SecretBody>(client, secretPath(system, configSecret));
    if (!s) return undefined;
    const json = Buffer.from(s.data?.[SP_CONFIG_SECRET_KEY] ?? '', 'base64').toString('utf8');
    expect(s.metadata.annotations?.[SP_CONFIG_HASH_ANNOTATION]).toBe(sha256(json));
    current = spConfig.parse(JSON.parse(json));
    return current;
  }
  const orgEntry = async (ns: string) => (await loadConfig())?.organizations.find((o) => o.namespace === ns);
  const label = (ns: string, value: string | null) =>
    client.call('PATCH', `/api/v1/namespaces/${ns}`, { body: { metadata: { labels: { [SCIM_ENABLED_LABEL]: value } } }, contentType: 'application/merge-patch+json' });
  const scimGet = (ns: string, token: string, path = 'ServiceProviderConfig') =>
    app.inject({ method: 'GET', url: `${SCIM_PREFIX}/${ns}/${path}`, headers: { authorization: `Bearer ${token}` } });
  const describeState = async () => JSON.stringify({ config: current?.organizations, log: op.logText(15) });

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org, other]) await createNamespace(client, ns);
    op = await OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org, other], args: ['--domain-recheck-interval=1h'] });
    await app.register(scimPlugin, { prefix: SCIM_PREFIX, kube: client, tokenVerifier: tokenVerifierFromConfig(() => current), verifiedDomains: verifiedDomainsFromConfig(() => current), logger: pino({ level: 'silent' }), metrics: createMetrics() });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await op?.stop();
    for (const ns of [system, org, other]) await deleteNamespace(client, ns);
    await client?.close();
  });

  let token = '';

  it('labelling a namespace creates its token Secret and renders exactly that token\'s digest', async () => {
    // Before: nothing for the organization (no profile, no domain, no SCIM), and no Secret.
    await waitFor('the first render', loadConfig);
    expect(await orgEntry(org)).toBeUndefined();
    expect(await tokenSecret(org)).toBeUndefined();
    // A Secret of that name in an unlabelled namespace is neither rendered nor touched.
    await client.call('POST', `/api/v1/namespaces/${other}/secrets`, { body: { metadata: { name: SCIM_TOKEN_SECRET_NAME }, stringData: { token: 'o'.repeat(40) } } });

    await label(org, 'enabled');
    const secret = await waitFor('the token Secret', () => tokenSecret(org), 30_000, describeState);
    token = tokenOfSecret(secret) ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // An organization with SCIM only (no profile, no verified domain) still gets its entry.
    const entry = await waitFor('the digest in the render', async () => {
      const e = await orgEntry(org);
      return e?.scim?.tokenSHA256.length === 1 && e;
    }, 30_000, describeState);
    expect(entry).toEqual({ namespace: org, verifiedDomains: [], profiles: [], scim: { tokenSHA256: [sha256(token)] } });
    expect(JSON.stringify(current)).not.toContain(token);
    expect(await orgEntry(other)).toBeUndefined();
    expect(tokenOfSecret(await readSecret(other, SCIM_TOKEN_SECRET_NAME))).toBe('o'.repeat(40));
  });

  it('the SCIM endpoint, reading the rendered config, accepts the Secret\'s token for that organization only', async () => {
    await loadConfig();
    expect((await scimGet(org, token)).statusCode).toBe(200);
    const users = await scimGet(org, token, 'Users?count=1');
    expect(users.statusCode, users.body).toBe(200);
    expect(users.json()).toMatchObject({ totalResults: 0 });
    expect((await scimGet(org, 'x'.repeat(43))).statusCode).toBe(401);
    expect((await scimGet(other, token)).statusCode).toBe(401);
    expect((await scimGet(other, 'o'.repeat(40))).statusCode).toBe(401);
  });

  it('replacing the Secret\'s token changes the digest; the old token is refused', async () => {
    const old = token;
    const s = await readSecret(org, SCIM_TOKEN_SECRET_NAME);
    token = 'replaced-' + 'r'.repeat(40);
    await client.call('PUT', secretPath(org, SCIM_TOKEN_SECRET_NAME), { body: { ...s, data: { token: Buffer.from(token).toString('base64') } } });
    await waitFor('the new digest', async () => (await orgEntry(org))?.scim?.tokenSHA256[0] === sha256(token), 30_000, describeState);
    expect((await orgEntry(org))?.scim?.tokenSHA256).toEqual([sha256(token)]);
    expect((await scimGet(org, token)).statusCode).toBe(200);
    const refused = await scimGet(org, old);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ status: '401', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
    // The operator does not overwrite a token the organization put there.
    expect(tokenOfSecret(await readSecret(org, SCIM_TOKEN_SECRET_NAME))).toBe(token);
  });

  it('deleting the Secret rotates: a new random token, a new digest, the old token refused', async () => {
    const old = token;
    await client.call('DELETE', secretPath(org, SCIM_TOKEN_SECRET_NAME));
    const fresh = await waitFor('a new token Secret', async () => {
      const t = tokenOfSecret(await tokenSecret(org));
      return t !== undefined && t !== old && t;
    }, 30_000, describeState);
    token = fresh;
    await waitFor('the rotated digest', async () => (await orgEntry(org))?.scim?.tokenSHA256[0] === sha256(fresh), 30_000, describeState);
    expect((await orgEntry(org))?.scim?.tokenSHA256).toEqual([sha256(fresh)]);
    expect((await scimGet(org, fresh)).statusCode).toBe(200);
    expect((await scimGet(org, old)).statusCode).toBe(401);
  });

  it('renders the namespace\'s display-name annotation as the organization\'s name, and follows its changes', async () => {
    const annotate = (value: string | null) =>
      client.call('PATCH', `/api/v1/namespaces/${org}`, { body: { metadata: { annotations: { [ORGANIZATION_DISPLAY_NAME_ANNOTATION]: value } } }, contentType: 'application/merge-patch+json' });
    expect((await orgEntry(org))?.displayName).toBeUndefined();
    await annotate('Acme Corporation');
    await waitFor('the display name rendered', async () => ((await orgEntry(org))?.displayName === 'Acme Corporation' ? true : undefined), 30_000, describeState);
    await annotate(null);
    await waitFor('the display name gone', async () => ((await orgEntry(org)) && (await orgEntry(org))?.displayName === undefined ? true : undefined), 30_000, describeState);
  });

  it('unlabelling removes SCIM from the render; the token stops working; the Secret stays', async () => {
    await label(org, null);
    await waitFor('SCIM gone from the render', async () => (await loadConfig()) !== undefined && (await orgEntry(org)) === undefined, 30_000, describeState);
    expect(current?.organizations.some((o) => o.scim)).toBe(false);
    expect((await scimGet(org, token)).statusCode).toBe(401);
    expect(tokenOfSecret(await readSecret(org, SCIM_TOKEN_SECRET_NAME))).toBe(token);

    // Labelled again: the kept token is rendered again (delete the Secret to retire it).
    await label(org, 'enabled');
    await waitFor('SCIM back', async () => (await orgEntry(org))?.scim?.tokenSHA256[0] === sha256(token), 30_000, describeState);
    expect((await scimGet(org, token)).statusCode).toBe(200);
  });
});
