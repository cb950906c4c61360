// The SCIM token chain end to end: the operator's token Secret is created for an organization
// that enables SCIM, only its digest is rendered, and the SCIM endpoint accepts exactly that
// token; replacing the Secret (rotation) retires the old token once the config is re-rendered.
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isConflict, type KubeClient } from '../../kube/client.ts';
import { newScimTokenSecret, renderScim, SCIM_ENABLED_LABEL, scimEnabled, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from '../../operator/scim-token.ts';
import type { SPConfig } from '../../crds/api/index.ts';
import { createMetrics } from '../../sp-server/metrics.ts';
import { SCIM_PREFIX, scimPlugin } from '../../sp-server/scim/plugin.ts';
import { tokenVerifierFromConfig } from '../../sp-server/scim/token.ts';
import { createNamespace, deleteNamespace, getIfExists, secretPath, statusOf, testClient } from '../support/kube.ts';

type Namespace = { metadata: { name: string; labels?: Record<string, string> } };
type Secret = { data?: Record<string, string>; stringData?: Record<string, string> };

const kubeconfig = inject('kubeconfig');
let client: KubeClient;
const app = Fastify();
let kube: KubeClient;
let config: SPConfig = { formatVersion: 1, organizations: [] };
const suffix = randomBytes(3).toString('hex');
const enabled: Namespace = { metadata: { name: `scim-on-${suffix}`, labels: { [SCIM_ENABLED_LABEL]: 'enabled' } } };
const disabled: Namespace = { metadata: { name: `scim-off-${suffix}` } };

const readTokenSecret = (namespace: string) => client.call<Secret>('GET', secretPath(namespace, SCIM_TOKEN_SECRET_NAME));

/** What the operator does for a namespace: its token Secret, created from the operator's template when SCIM is on and there is none. */
async function tokenSecretOf(ns: Namespace): Promise<Secret | undefined> {
  const existing = await getIfExists<Secret>(client, secretPath(ns.metadata.name, SCIM_TOKEN_SECRET_NAME));
  if (existing || !scimEnabled(ns)) return existing;
  try {
    return await client.call<Secret>('POST', secretPath(ns.metadata.name), { body: newScimTokenSecret(ns.metadata.name) });
  } catch (err) {
    if (isConflict(err)) return readTokenSecret(ns.metadata.name);
    throw err;
  }
}

async function render(): Promise<void> {
  const organizations = [];
  for (const ns of [enabled, disabled]) {
    const scim = renderScim(ns, await tokenSecretOf(ns));
    organizations.push({ namespace: ns.metadata.name, verifiedDomains: [], profiles: [], ...(scim ? { scim } : {}) });
  }
  config = { formatVersion: 1, organizations };
}

const get = (ns: string, token: string) =>
  app.inject({ method: 'GET', url: `${SCIM_PREFIX}/${ns}/ServiceProviderConfig`, headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  client = await testClient(kubeconfig);
  for (const ns of [enabled, disabled]) await createNamespace(client, ns.metadata.name, ns.metadata.labels);
  await app.register(scimPlugin, { prefix: SCIM_PREFIX, kube: client, tokenVerifier: tokenVerifierFromConfig(() => config), logger: pino({ level: 'silent' }), metrics: createMetrics() });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  for (const ns of [enabled, disabled]) await deleteNamespace(client, ns.metadata.name);
  await client?.close();
});

describe('SCIM token Secret', () => {
  it('is created for namespaces that enable SCIM, rendered as a digest, and accepted by the endpoint', async () => {
    await render();
    const token = tokenOfSecret(await readTokenSecret(enabled.metadata.name))!;
    expect(token).toHaveLength(43);
    expect(await statusOf(readTokenSecret(disabled.metadata.name))).toBe(404);
    expect(JSON.stringify(config)).not.toContain(token);
    expect(config.organizations.find((o) => o.namespace === disabled.metadata.name)?.scim).toBeUndefined();

    expect((await get(enabled.metadata.name, token)).statusCode).toBe(200);
    expect((await get(disabled.metadata.name, token)).statusCode).toBe(401);

    // Rendering again keeps the same Secret and token.
    await render();
    expect((await get(enabled.metadata.name, token)).statusCode).toBe(200);
  });

  it('rotates: after the Secret is replaced and the config re-rendered, only the new token works', async () => {
    const namespace = enabled.metadata.name;
    const old = tokenOfSecret(await readTokenSecret(namespace))!;
    await client.call('DELETE', secretPath(namespace, SCIM_TOKEN_SECRET_NAME));
    await render();
    const fresh = tokenOfSecret(await readTokenSecret(namespace))!;
    expect(fresh).not.toBe(old);
    expect((await get(namespace, fresh)).statusCode).toBe(200);
    const refused = await get(namespace, old);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ status: '401', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
  });
});
