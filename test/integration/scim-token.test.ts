// The SCIM token chain end to end: the operator's SCIM token controller (on its real caches)
// creates the organization's Secret, the renderer takes only its digest, and the SCIM endpoint
// accepts exactly that token; replacing the Secret (rotation) retires the old token once the
// config is re-rendered.
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubeClient } from '../../kube/client.ts';
import type { InformerControl } from '../../kube/informer.ts';
import { openScimCaches } from '../../operator/caches.ts';
import type { Context } from '../../operator/context.ts';
import { reconcileScimToken, scimOfNamespace } from '../../operator/controllers/scim-token.ts';
import { queueKey } from '../../operator/queue-key.ts';
import { SCIM_ENABLED_LABEL, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from '../../operator/scim-token.ts';
import type { SPConfig } from '../../crds/api/index.ts';
import { createMetrics } from '../../sp-server/metrics.ts';
import { SCIM_PREFIX, scimPlugin } from '../../sp-server/scim/plugin.ts';
import { tokenVerifierFromConfig, verifiedDomainsFromConfig } from '../../sp-server/scim/token.ts';
import { createNamespace, deleteNamespace, getIfExists, secretPath, statusOf, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const app = Fastify();
let config: SPConfig = { formatVersion: 1, organizations: [] };
const suffix = randomBytes(3).toString('hex');
type Namespace = { metadata: { name: string; labels?: Record<string, string> } };
type Secret = { data?: Record<string, string>; stringData?: Record<string, string> };
const enabled: Namespace = { metadata: { name: `scim-on-${suffix}`, labels: { [SCIM_ENABLED_LABEL]: 'enabled' } } };
const disabled: Namespace = { metadata: { name: `scim-off-${suffix}` } };

const silent = pino({ level: 'silent' });
let client: KubeClient;
let operator: Pick<Context, 'queue' | 'scimNamespaces' | 'scimSecrets' | 'client' | 'log'>;
const informers = () => [...operator.scimNamespaces.informers, ...operator.scimSecrets.informers] as InformerControl[];

/** One pass of the operator's SCIM token controller over both namespaces, then the organizations' scim fields. */
async function render(): Promise<void> {
  const organizations = [];
  for (const ns of [enabled, disabled]) {
    const name = ns.metadata.name;
    if (ns === enabled) await waitFor(`${name} in the labelled-namespace cache`, async () => !!operator.scimNamespaces.get('', name));
    await reconcileScimToken(operator, queueKey.namespace(name));
    // The renderer reads the Secret from the cache: wait until the watch delivered what was created.
    if (ns === enabled) await waitFor(`the token Secret of ${name} in the cache`, async () => !!operator.scimSecrets.get(name, SCIM_TOKEN_SECRET_NAME));
    const scim = scimOfNamespace(operator, name);
    organizations.push({ namespace: name, verifiedDomains: [], profiles: [], ...(scim ? { scim } : {}) });
  }
  config = { formatVersion: 1, organizations };
}

async function readTokenSecret(namespace: string): Promise<Secret> {
  const secret = await getIfExists<Secret>(client, secretPath(namespace, SCIM_TOKEN_SECRET_NAME));
  if (!secret) throw new Error(`no ${SCIM_TOKEN_SECRET_NAME} in ${namespace}`);
  return secret;
}

const get = (ns: string, token: string) =>
  app.inject({ method: 'GET', url: `${SCIM_PREFIX}/${ns}/ServiceProviderConfig`, headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  client = await testClient(kubeconfig);
  for (const ns of [enabled, disabled]) await createNamespace(client, ns.metadata.name, ns.metadata.labels);
  // Watched by name, as the operator does under --watch-namespaces.
  const caches = openScimCaches(client, [enabled.metadata.name, disabled.metadata.name], 600_000, silent);
  operator = { ...caches, client, log: silent, queue: { add: () => {}, addAfter: () => {} } };
  for (const i of informers()) i.start();
  await Promise.all(informers().map((i) => i.waitForSync()));
  await app.register(scimPlugin, { prefix: SCIM_PREFIX, kube: client, tokenVerifier: tokenVerifierFromConfig(() => config), verifiedDomains: verifiedDomainsFromConfig(() => config), logger: pino({ level: 'silent' }), metrics: createMetrics() });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await Promise.all(informers().map((i) => i.stop()));
  for (const ns of [enabled, disabled]) await deleteNamespace(client, ns.metadata.name);
  await client.close();
});

describe('SCIM token Secret', () => {
  it('is created for namespaces that enable SCIM, rendered as a digest, and accepted by the endpoint', async () => {
    await render();
    const token = tokenOfSecret(await readTokenSecret(enabled.metadata.name))!;
    expect(token).toHaveLength(43);
    expect(await statusOf(client.call('GET', secretPath(disabled.metadata.name, SCIM_TOKEN_SECRET_NAME)))).toBe(404);
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
    await waitFor('the deletion in the cache', async () => !operator.scimSecrets.get(namespace, SCIM_TOKEN_SECRET_NAME));
    await render();
    const fresh = tokenOfSecret(await readTokenSecret(namespace))!;
    expect(fresh).not.toBe(old);
    expect((await get(namespace, fresh)).statusCode).toBe(200);
    const refused = await get(namespace, old);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ status: '401', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
  });
});
