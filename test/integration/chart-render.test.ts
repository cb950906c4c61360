// The chart on its own and against the API server's validation: helm lint, what helm template
// renders for the options an admin sets, values the schema refuses, and every rendered object
// accepted by kube-apiserver's strict server-side dry run in a namespace enforcing the
// restricted Pod Security Standard.
import { createHash } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { kubectl } from '../controlplane/kubectl.ts';
import { KINDS } from '../../crds/api/index.ts';
import { parseClients, secretMatches } from '../../sp-server/oauth/clients.ts';
import { CHART_DIR, find, helm, render, renderRaw, type Rendered } from '../support/helm.ts';

const kubeconfig = inject('kubeconfig');

type PodSpec = {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: { name: string; args?: string[]; command?: string[]; securityContext?: Record<string, unknown>; resources?: unknown; readinessProbe?: unknown; livenessProbe?: unknown; ports?: unknown[]; env?: { name: string; valueFrom?: unknown; value?: string }[] }[];
};

function podSpec(o: Rendered): PodSpec {
  if (o.kind === 'Pod') return o.spec as PodSpec;
  return (o.spec as { template: { spec: PodSpec } }).template.spec;
}

function args(objs: Rendered[], deployment: string): string[] {
  return podSpec(find(objs, 'Deployment', deployment)).containers[0]?.args ?? [];
}

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };
function rules(o: Rendered): Rule[] {
  return (o as unknown as { rules: Rule[] }).rules;
}

describe('helm lint', () => {
  it('is clean with the default values and strict mode', async () => {
    const res = await helm(['lint', '--strict', CHART_DIR]);
    expect(res.stdout + res.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(res.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(res.code).toBe(0);
  });

  it('is clean with every option on', async () => {
    const res = await helm(['lint', '--strict', CHART_DIR, '--set', 'spServer.replicas=2,operator.replicas=2,redis.url=redis://redis:6379/0,redis.existingSecret=redis,scim.enabled=true,spServer.jitProvisioning=true,ingress.enabled=true,ingress.tls.enabled=true,networkPolicy.enabled=true,publicURL=https://sso.example.com,portal.enabled=true,portal.publicURL=https://portal.example.com,portal.replicas=2,portal.ingress.enabled=true,portal.ingress.tls.enabled=true,portal.smtp.url=smtp://mail.example.com,portal.smtp.from=sso@example.com']);
    expect(res.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });
});

describe('helm template, default values', () => {
  it('renders both components with the restricted pod security context and probes', async () => {
    const objs = await render();
    const pods = objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Pod');
    expect(pods.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/gatehouse-operator',
      'Deployment/gatehouse-sp-server',
      'Pod/gatehouse-test',
    ]);
    for (const o of pods) {
      const spec = podSpec(o);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of spec.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(c.resources).toBeDefined();
      }
    }
    for (const name of ['gatehouse-operator', 'gatehouse-sp-server']) {
      const spec = podSpec(find(objs, 'Deployment', name));
      expect(spec.serviceAccountName).toBe(name);
      expect(spec.automountServiceAccountToken).toBe(true);
      expect(spec.containers[0]?.readinessProbe).toMatchObject({ httpGet: { path: '/readyz' } });
      expect(spec.containers[0]?.livenessProbe).toMatchObject({ httpGet: { path: '/healthz' } });
    }
  });

  it('points at the image built from the Dockerfile, tagged with the appVersion', async () => {
    const objs = await render();
    const c = podSpec(find(objs, 'Deployment', 'gatehouse-operator')).containers[0];
    expect(c?.command).toEqual(['node', 'operator/main.ts']);
    expect((find(objs, 'Deployment', 'gatehouse-operator').spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image).toBe('ghcr.io/gatehouse-dev/gatehouse:0.1.0');
    expect(podSpec(find(objs, 'Deployment', 'gatehouse-sp-server')).containers[0]?.command).toEqual(['node', 'sp-server/main.ts']);
  });

  it('passes the operator and sp-server their flags', async () => {
    const objs = await render();
    expect(args(objs, 'gatehouse-operator')).toEqual([
      '--namespace=gatehouse-system',
      '--config-secret=gatehouse-sp-config',
      '--sp-public-url=http://localhost:8080',
      '--certificate-expiry-warning=720h',
      '--test-link-ttl=24h',
      '--domain-reverify-interval=24h',
      '--domain-verification-grace=72h',
      '--domain-proof-secret=gatehouse-domain-proof-key',
      '--metrics-address=0.0.0.0:8080',
      '--health-address=0.0.0.0:8081',
      '--leader-elect',
    ]);
    expect(args(objs, 'gatehouse-sp-server')).toEqual([
      '--namespace=gatehouse-system',
      '--config-secret=gatehouse-sp-config',
      '--public-url=http://localhost:8080',
      '--listen-address=0.0.0.0:8080',
      '--metrics-address=0.0.0.0:9090',
      '--oauth-clients-file=/etc/gatehouse/oauth-clients/clients.json',
      '--signing-key-file=/etc/gatehouse/signing-key/private.pem',
      '--signing-key-file=/etc/gatehouse/signing-key/ec-private.pem',
      '--acs-body-limit-bytes=262144',
      '--validation-workers=2',
    ]);
  });

  it('serves the sp-server\'s metrics on their own port, and passes trusted proxies and rate limits', async () => {
    const objs = await render({ spServer: { trustedProxies: ['10.0.0.0/8', '192.168.1.1'], rateLimits: { authorize: { perIP: 30 }, pendingLogins: { global: 1000 } } } });
    const deployment = find(objs, 'Deployment', 'gatehouse-sp-server') as Rendered & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(podSpec(deployment).containers[0]?.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe('9090');
    expect(args(objs, 'gatehouse-sp-server')).toContain('--trusted-proxies=10.0.0.0/8,192.168.1.1');
    expect(args(objs, 'gatehouse-sp-server')).toContain('--rate-limits={"authorize":{"perIP":30},"pendingLogins":{"global":1000}}');
    expect(args(await render({ spServer: { trustedProxies: 2 } }), 'gatehouse-sp-server')).toContain('--trusted-proxies=2');
    const np = await render({ networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }] } });
    const ingress = (find(np, 'NetworkPolicy', 'gatehouse-sp-server').spec as { ingress: unknown[] }).ingress;
    expect(ingress).toContainEqual({ ports: [{ port: 'metrics', protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }] });
  });

  it('lets the sp-server reach OpenID Providers: private addresses only when allowed, their ports open in the NetworkPolicy', async () => {
    expect(args(await render({}), 'gatehouse-sp-server')).not.toContain('--allow-private-idp-addresses');
    expect(args(await render({ spServer: { allowPrivateIdPAddresses: true } }), 'gatehouse-sp-server')).toContain('--allow-private-idp-addresses');
    const egressOf = async (networkPolicy: Record<string, unknown>) => JSON.stringify((find(await render({ networkPolicy: { enabled: true, ...networkPolicy } }), 'NetworkPolicy', 'gatehouse-sp-server').spec as { egress: unknown }).egress);
    expect(await egressOf({ apiServerPorts: [6443] })).toContain('{"port":443,"protocol":"TCP"}');
    const custom = await egressOf({ apiServerPorts: [6443], oidcPorts: [8443] });
    expect(custom).toContain('{"port":8443,"protocol":"TCP"}');
    expect(custom).not.toContain('{"port":443,');
  });

  it('passes the sp-server its ACS body limit and validation workers, within the schema\'s bounds', async () => {
    const objs = await render({ spServer: { acsBodyLimitBytes: 1048576, validationWorkers: 0 } });
    expect(args(objs, 'gatehouse-sp-server')).toEqual(expect.arrayContaining(['--acs-body-limit-bytes=1048576', '--validation-workers=0']));
    await expect(render({ spServer: { acsBodyLimitBytes: 1048577 } })).rejects.toThrow(/acsBodyLimitBytes/);
    await expect(render({ spServer: { acsBodyLimitBytes: 1024 } })).rejects.toThrow(/acsBodyLimitBytes/);
  });

  it('passes the operator the test link lifetime it is given', async () => {
    expect(args(await render({ operator: { testLinkTTL: '2h' } }), 'gatehouse-operator')).toContain('--test-link-ttl=2h');
  });

  it('keeps the CRDs on uninstall by default and renders no optional objects', async () => {
    const objs = await render();
    const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(KINDS.length);
    for (const crd of crds) expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    for (const kind of ['Ingress', 'NetworkPolicy', 'PodDisruptionBudget']) expect(objs.filter((o) => o.kind === kind)).toEqual([]);
  });

  it('gives the sp-server no write access to ManagedUsers and no Secret access outside the config Secret', async () => {
    const objs = await render();
    expect(rules(find(objs, 'ClusterRole', 'gatehouse-sp-server'))).toEqual([
      { apiGroups: ['sso.gatehouse.dev'], resources: ['managedusers'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['sso.gatehouse.dev'], resources: ['managedgroups'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['sso.gatehouse.dev'], resources: ['ssoprofiles/status'], verbs: ['patch'] },
    ]);
    expect(rules(find(objs, 'Role', 'gatehouse-sp-server'))).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gatehouse-sp-config'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(objs.filter((o) => o.metadata.name === 'gatehouse-sp-server-scim')).toEqual([]);
  });

  it('generates an RSA and an EC P-256 ID-token signing key', async () => {
    const objs = await render();
    const secret = find(objs, 'Secret', 'gatehouse-oidc-signing-key') as Rendered & { data: Record<string, string> };
    const { createPrivateKey } = await import('node:crypto');
    const key = (name: string) => createPrivateKey(Buffer.from(secret.data[name] ?? '', 'base64').toString());
    expect(key('private.pem').asymmetricKeyType).toBe('rsa');
    expect(key('private.pem').asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(2048);
    expect(key('ec-private.pem').asymmetricKeyType).toBe('ec');
    expect(key('ec-private.pem').asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });
});

describe('helm template, options', () => {
  it('several sp-server replicas: redis URL and password, a PodDisruptionBudget', async () => {
    const objs = await render({ spServer: { replicas: 3 }, redis: { url: 'rediss://redis.cache:6380/0', existingSecret: 'redis-auth', existingSecretPasswordKey: 'pw' } });
    expect(args(objs, 'gatehouse-sp-server')).toContain('--redis-url=rediss://redis.cache:6380/0');
    const env = podSpec(find(objs, 'Deployment', 'gatehouse-sp-server')).containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom).toEqual({ secretKeyRef: { name: 'redis-auth', key: 'pw' } });
    expect(find(objs, 'PodDisruptionBudget', 'gatehouse-sp-server').spec).toMatchObject({ minAvailable: 1 });
    expect(objs.filter((o) => o.kind === 'PodDisruptionBudget')).toHaveLength(1);
  });

  it('JIT provisioning adds create on ManagedUsers, nothing else', async () => {
    const objs = await render({ spServer: { jitProvisioning: true } });
    expect(rules(find(objs, 'ClusterRole', 'gatehouse-sp-server'))[0]?.verbs).toEqual(['get', 'list', 'watch', 'create']);
    expect(args(objs, 'gatehouse-sp-server')).toContain('--jit-provisioning');
    expect(args(objs, 'gatehouse-sp-server')).not.toContain('--scim');
  });

  it('SCIM adds ManagedUser and ManagedGroup writes and VerifiedDomain reads, no Secret access', async () => {
    const objs = await render({ scim: { enabled: true } });
    const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    expect(rules(find(objs, 'ClusterRole', 'gatehouse-sp-server'))).toEqual([
      { apiGroups: ['sso.gatehouse.dev'], resources: ['managedusers'], verbs: all },
      { apiGroups: ['sso.gatehouse.dev'], resources: ['managedgroups'], verbs: all },
      { apiGroups: ['sso.gatehouse.dev'], resources: ['verifieddomains'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['sso.gatehouse.dev'], resources: ['ssoprofiles/status'], verbs: ['patch'] },
    ]);
    // The token digests travel in the rendered config: no organization Secret for the sp-server.
    expect(objs.filter((o) => o.metadata.name.startsWith('gatehouse-sp-server-scim'))).toEqual([]);
    expect(args(objs, 'gatehouse-sp-server')).toContain('--scim');
  });

  it('the operator may create Secrets but touch only its own by name, and only read the OIDC client secret, in organizations and in its namespace', async () => {
    const objs = await render();
    expect(rules(find(objs, 'ClusterRole', 'gatehouse-operator-organization'))).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gatehouse-sp-keys', 'gatehouse-scim-token'], verbs: ['get', 'list', 'watch', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gatehouse-oidc-client'], verbs: ['get', 'list', 'watch'] },
    ]);
    const own = rules(find(objs, 'Role', 'gatehouse-operator')).filter((r) => r.resources?.includes('secrets'));
    expect(own).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gatehouse-sp-config'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gatehouse-domain-proof-key'], verbs: ['get'] },
    ]);
  });

  it('re-verification interval and grace period of verified domains are values', async () => {
    const objs = await render({ operator: { domainReverifyInterval: '6h', domainVerificationGrace: '168h' } });
    expect(args(objs, 'gatehouse-operator')).toEqual(expect.arrayContaining(['--domain-reverify-interval=6h', '--domain-verification-grace=168h']));
  });

  it('the operator watches namespaces (the SCIM label) cluster-wide by default', async () => {
    const objs = await render();
    expect(rules(find(objs, 'ClusterRole', 'gatehouse-operator'))).toContainEqual({ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] });
    expect(args(objs, 'gatehouse-operator').some((a) => a.startsWith('--watch-namespaces'))).toBe(false);
  });

  it('organization namespaces listed: RoleBindings there instead of cluster-wide Secret access', async () => {
    const objs = await render({ scim: { enabled: true }, rbac: { organizationNamespaces: { scope: 'Namespaces', namespaces: ['acme', 'globex'] } } });
    expect(objs.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => o.metadata.name).sort()).toEqual(['gatehouse-operator', 'gatehouse-sp-server']);
    const bindings = objs.filter((o) => o.kind === 'RoleBinding' && o.metadata.namespace !== 'gatehouse-system');
    expect(bindings.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'acme/gatehouse-operator-organization',
      'globex/gatehouse-operator-organization',
    ]);
    // The operator watches exactly those organizations, and may read only those namespaces.
    expect(args(objs, 'gatehouse-operator')).toContain('--watch-namespaces=acme,globex');
    expect(rules(find(objs, 'ClusterRole', 'gatehouse-operator'))).toContainEqual({ apiGroups: [''], resources: ['namespaces'], resourceNames: ['acme', 'globex'], verbs: ['get', 'list', 'watch'] });
  });

  it('ingress on the host of publicURL, with TLS', async () => {
    const objs = await render({ publicURL: 'https://sso.example.com', ingress: { enabled: true, className: 'nginx', tls: { enabled: true } } });
    expect(find(objs, 'Ingress').spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['sso.example.com'], secretName: 'gatehouse-sp-server-tls' }],
      rules: [{ host: 'sso.example.com', http: { paths: [{ path: '/', backend: { service: { name: 'gatehouse-sp-server', port: { name: 'http' } } } }] } }],
    });
  });

  it('network policies allow the custom DNS servers, the API server and redis', async () => {
    const objs = await render({ networkPolicy: { enabled: true }, operator: { dnsServers: ['10.0.0.53:5353'] }, redis: { url: 'redis://redis:6379' } });
    const op = JSON.stringify(find(objs, 'NetworkPolicy', 'gatehouse-operator').spec);
    expect(op).toContain('{"port":5353,"protocol":"UDP"}');
    expect(op).toContain('{"port":6443,"protocol":"TCP"}');
    expect(JSON.stringify(find(objs, 'NetworkPolicy', 'gatehouse-sp-server').spec)).toContain('{"port":6379,"protocol":"TCP"}');
    expect(args(objs, 'gatehouse-operator')).toContain('--dns-servers=10.0.0.53:5353');
    expect(args(objs, 'gatehouse-operator')).not.toContain('--allow-insecure-metadata-urls');
    const single = await render({ operator: { leaderElection: { enabled: false }, allowPrivateMetadataURLs: true, allowInsecureMetadataURLs: true } });
    expect(args(single, 'gatehouse-operator')).not.toContain('--leader-elect');
    expect(args(single, 'gatehouse-operator')).toContain('--allow-private-metadata-urls');
    expect(args(single, 'gatehouse-operator')).toContain('--allow-insecure-metadata-urls');
    expect((find(single, 'Deployment', 'gatehouse-operator').spec as { strategy: unknown }).strategy).toEqual({ type: 'Recreate' });
  });

  it('OAuth clients become the mounted clients.json, and changing them rolls the sp-server', async () => {
    const clients = [
      { clientId: 'console', redirectUris: ['https://console.example.com/oauth/callback'], public: false, clientSecretHash: 'sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8', idpInitiatedDefault: true },
      { clientId: 'cli', redirectUris: ['http://127.0.0.1:8765/callback'], public: true },
    ];
    const objs = await render({ spServer: { oauthClients: clients } });
    const secret = find(objs, 'Secret', 'gatehouse-oauth-clients') as Rendered & { data: Record<string, string> };
    expect(JSON.parse(Buffer.from(secret.data['clients.json'] ?? '', 'base64').toString())).toEqual(clients);
    const checksum = (o: Rendered[]) => (find(o, 'Deployment', 'gatehouse-sp-server').spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['checksum/oauth-clients'];
    const other = await render({ spServer: { oauthClients: clients.slice(1) } });
    expect(checksum(objs)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(other)).not.toBe(checksum(objs));
  });

  it('an existing signing key Secret replaces the generated one', async () => {
    const objs = await render({ spServer: { signingKey: { existingSecret: 'my-oidc-key', key: 'key.pem' } } });
    expect(objs.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual(['gatehouse-oauth-clients']);
    expect(args(objs, 'gatehouse-sp-server')).toContain('--signing-key-file=/etc/gatehouse/signing-key/key.pem');
    // A Secret from before ES256 holds one key: the chart mounts only that one.
    expect(args(objs, 'gatehouse-sp-server').filter((a) => a.startsWith('--signing-key-file='))).toHaveLength(1);
    expect(JSON.stringify(podSpec(find(objs, 'Deployment', 'gatehouse-sp-server')))).toContain('"secretName":"my-oidc-key"');
    const both = await render({ spServer: { signingKey: { existingSecret: 'my-oidc-key', key: 'rsa.pem', ecKey: 'ec.pem' } } });
    expect(args(both, 'gatehouse-sp-server').filter((a) => a.startsWith('--signing-key-file='))).toEqual(['--signing-key-file=/etc/gatehouse/signing-key/rsa.pem', '--signing-key-file=/etc/gatehouse/signing-key/ec.pem']);
    expect(JSON.stringify(podSpec(find(both, 'Deployment', 'gatehouse-sp-server')))).toContain('{"key":"ec.pem","path":"ec.pem"}');
  });

  it('CRDs off renders none; keep off drops the resource policy', async () => {
    expect((await render({ crds: { enabled: false } })).filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
    const crds = (await render({ crds: { enabled: true, keep: false } })).filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(KINDS.length);
    for (const crd of crds) expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
  });

  it('a release with another name prefixes every name', async () => {
    const objs = await render({}, { release: 'sso' });
    expect(args(objs, 'sso-gatehouse-operator')).toContain('--config-secret=sso-gatehouse-sp-config');
  });
});

describe('helm template, admin portal', () => {
  const PORTAL = { enabled: true, publicURL: 'https://portal.example.com' };
  const portalObjects = (objs: Rendered[]) =>
    objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'portal' || o.metadata.name === 'gatehouse-sp-server-internal').map((o) => `${o.kind}/${o.metadata.name}`).sort();
  const dataOf = (objs: Rendered[], name: string) => (find(objs, 'Secret', name) as Rendered & { data: Record<string, string> }).data;
  const clientsOf = (objs: Rendered[]) => JSON.parse(Buffer.from(dataOf(objs, 'gatehouse-oauth-clients')['clients.json'] ?? '', 'base64').toString()) as Record<string, unknown>[];
  const volumesOf = (objs: Rendered[], deployment: string) => JSON.stringify((podSpec(find(objs, 'Deployment', deployment)) as PodSpec & { volumes: unknown }).volumes);

  it('off (the default): nothing of the portal, and the sp-server has no internal token', async () => {
    const objs = await render();
    expect(portalObjects(objs)).toEqual([]);
    expect(objs.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy') || o.kind === 'ConfigMap')).toEqual([]);
    expect(args(objs, 'gatehouse-sp-server').some((a) => a.startsWith('--internal-token-file'))).toBe(false);
    expect(volumesOf(objs, 'gatehouse-sp-server')).not.toContain('internal-token');
    expect(clientsOf(objs)).toEqual([]);
  });

  it('with Secrets of your own (GitOps without the cluster): none generated, the same manifests on every render', async () => {
    const hash = `sha256:${'ab'.repeat(32)}`;
    const values = { portal: { ...PORTAL, oidcClient: { existingSecret: 'portal-client', clientSecretHash: hash }, internalToken: { existingSecret: 'activity-token' } } };
    const [first, second] = [await render(values), await render(values)];
    // What the portal adds renders the same every time (the sp-server's generated signing key aside).
    const portalParts = (objs: Rendered[]) => JSON.stringify([clientsOf(objs), find(objs, 'Deployment', 'gatehouse-portal'), find(objs, 'Deployment', 'gatehouse-sp-server')]);
    expect(portalParts(first)).toBe(portalParts(second));
    expect(first.some((o) => o.kind === 'Secret' && (o.metadata.name === 'gatehouse-portal-oidc' || o.metadata.name === 'gatehouse-internal-token'))).toBe(false);
    expect(clientsOf(first).find((c) => c.clientId === 'gatehouse-portal')?.clientSecretHash).toBe(hash);
    expect(volumesOf(first, 'gatehouse-portal')).toContain('"secretName":"portal-client"');
    expect(volumesOf(first, 'gatehouse-portal')).toContain('"secretName":"activity-token"');
    expect(volumesOf(first, 'gatehouse-sp-server')).toContain('"secretName":"activity-token"');
    // Generated ones differ between renders without a cluster: what the options are for.
    const [a, b] = [await render({ portal: PORTAL }), await render({ portal: PORTAL })];
    expect(clientsOf(a).find((c) => c.clientId === 'gatehouse-portal')?.clientSecretHash).not.toBe(clientsOf(b).find((c) => c.clientId === 'gatehouse-portal')?.clientSecretHash);
  });

  it('on: the Deployment, its ServiceAccount, RBAC, admission policy, Services, Secrets and the setup-links ConfigMap', async () => {
    const objs = await render({ portal: PORTAL });
    expect(portalObjects(objs)).toEqual([
      'ClusterRole/gatehouse-portal',
      'ClusterRoleBinding/gatehouse-portal',
      'ConfigMap/gatehouse-portal-setup-links',
      'Deployment/gatehouse-portal',
      'Role/gatehouse-portal',
      'RoleBinding/gatehouse-portal',
      'Secret/gatehouse-internal-token',
      'Secret/gatehouse-portal-oidc',
      'Service/gatehouse-portal',
      'Service/gatehouse-sp-server-internal',
      'ServiceAccount/gatehouse-portal',
      'ValidatingAdmissionPolicy/gatehouse-portal-namespaces',
      'ValidatingAdmissionPolicyBinding/gatehouse-portal-namespaces',
    ]);
    // Upgrades never overwrite live links: no data field, and the ConfigMap outlives the release.
    const cm = find(objs, 'ConfigMap', 'gatehouse-portal-setup-links');
    expect(cm.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    expect(cm).not.toHaveProperty('data');
    // The internal Service is ClusterIP on the metrics port, whatever the public Service's type.
    const internal = await render({ portal: PORTAL, spServer: { service: { type: 'LoadBalancer' } } });
    expect(find(internal, 'Service', 'gatehouse-sp-server-internal').spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'metrics', port: 9090, targetPort: 'metrics' }] });
  });

  it('runs portal/main.ts with the contract\'s flags, hardened, probed on its metrics port', async () => {
    const objs = await render({ portal: PORTAL, redis: { url: 'redis://redis:6379/0', existingSecret: 'redis-auth' } });
    const spec = podSpec(find(objs, 'Deployment', 'gatehouse-portal'));
    const c = spec.containers[0] as PodSpec['containers'][number] & { startupProbe: unknown; volumeMounts: { name: string; mountPath: string }[] };
    expect(c.command).toEqual(['node', 'portal/main.ts']);
    expect(c.args).toEqual([
      '--public-url=https://portal.example.com',
      '--listen-address=0.0.0.0:8080',
      '--metrics-address=0.0.0.0:9090',
      '--gatehouse-namespace=gatehouse-system',
      '--setup-links-configmap=gatehouse-portal-setup-links',
      '--setup-link-ttl=24h',
      '--oauth-clients-file=/etc/gatehouse/oauth-clients/clients.json',
      '--oidc-issuer=http://localhost:8080',
      '--oidc-client-id=gatehouse-portal',
      '--oidc-client-secret-file=/etc/gatehouse/portal-oidc/client-secret',
      // The default publicURL is plain http (a local install): the portal talks to that issuer as it is.
      '--allow-insecure-issuer',
      '--admin-roles=admin',
      '--redis-url=redis://redis:6379/0',
      '--activity-url=http://gatehouse-sp-server-internal.gatehouse-system.svc:9090',
      '--internal-token-file=/etc/gatehouse/internal-token/token',
      '--log-level=info',
    ]);
    expect(spec.serviceAccountName).toBe('gatehouse-portal');
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    for (const [probe, path] of [[c.startupProbe, '/healthz'], [c.livenessProbe, '/healthz'], [c.readinessProbe, '/readyz']] as const) expect(probe).toMatchObject({ httpGet: { path, port: 'metrics' } });
    expect(c.env).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    expect(c.env).toContainEqual({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } } });
    expect(c.env?.some((e) => e.name === 'SMTP_PASSWORD')).toBe(false);
    expect(c.volumeMounts.map((m) => m.mountPath).sort()).toEqual(['/etc/gatehouse/internal-token', '/etc/gatehouse/oauth-clients', '/etc/gatehouse/portal-oidc', '/tmp']);
    const volumes = volumesOf(objs, 'gatehouse-portal');
    for (const secret of ['gatehouse-oauth-clients', 'gatehouse-portal-oidc', 'gatehouse-internal-token']) expect(volumes).toContain(`"secretName":"${secret}"`);
    const https = podSpec(find(await render({ publicURL: 'https://sso.example.com', portal: PORTAL }), 'Deployment', 'gatehouse-portal')).containers[0];
    expect(https?.args).toContain('--oidc-issuer=https://sso.example.com');
    expect(https?.args).not.toContain('--allow-insecure-issuer');
    expect(https?.args).not.toContain('--allow-insecure-metadata-urls');
  });

  it('passes SMTP, admin roles, link lifetime and extra flags; the SMTP password from its Secret', async () => {
    const objs = await render({ portal: { ...PORTAL, adminRoles: ['admin', 'it-admin'], setupLinkTTL: '2h', smtp: { url: 'smtp://mailer@mail.example.com:2525', from: 'sso@example.com', existingSecret: 'smtp-auth', passwordKey: 'pw' }, extraArgs: ['--log-level=debug'] } });
    const a = args(objs, 'gatehouse-portal');
    expect(a).toEqual(expect.arrayContaining(['--admin-roles=admin,it-admin', '--setup-link-ttl=2h', '--smtp-url=smtp://mailer@mail.example.com:2525', '--smtp-from=sso@example.com']));
    expect(a.at(-1)).toBe('--log-level=debug');
    expect(podSpec(find(objs, 'Deployment', 'gatehouse-portal')).containers[0]?.env).toContainEqual({ name: 'SMTP_PASSWORD', valueFrom: { secretKeyRef: { name: 'smtp-auth', key: 'pw' } } });
  });

  it('registers the portal at the sp-server: its client appended with the sha256 of the generated secret, the internal token mounted', async () => {
    const app = { clientId: 'console', redirectUris: ['https://console.example.com/cb'], public: false, clientSecretHash: 'sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8' };
    const objs = await render({ portal: PORTAL, spServer: { oauthClients: [app] } });
    const secret = Buffer.from(dataOf(objs, 'gatehouse-portal-oidc')['client-secret'] ?? '', 'base64').toString();
    expect(secret).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(clientsOf(objs)).toEqual([
      app,
      { clientId: 'gatehouse-portal', redirectUris: ['https://portal.example.com/signin/callback'], public: false, clientSecretHash: `sha256:${createHash('sha256').update(secret).digest('hex')}`, allowedScopes: ['openid', 'email', 'profile', 'organization'] },
    ]);
    // The sp-server's own parser takes the file as the chart writes it.
    const parsed = parseClients(clientsOf(objs));
    expect(parsed.map((c) => c.client_id)).toEqual(['console', 'gatehouse-portal']);
    expect(await secretMatches(parsed[1] as (typeof parsed)[number], secret)).toBe(true);
    expect(Buffer.from(dataOf(objs, 'gatehouse-internal-token').token ?? '', 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(args(objs, 'gatehouse-sp-server')).toContain('--internal-token-file=/etc/gatehouse/internal-token/token');
    expect(volumesOf(objs, 'gatehouse-sp-server')).toContain('"secretName":"gatehouse-internal-token"');
    // Adding the portal's client rolls the sp-server (it reads its clients at start).
    const checksum = (o: Rendered[]) => (find(o, 'Deployment', 'gatehouse-sp-server').spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['checksum/oauth-clients'];
    expect(checksum(objs)).not.toBe(checksum(await render({ spServer: { oauthClients: [app] } })));
  });

  it('RBAC: the organization\'s resources by apply, namespaces, Events, the SCIM token only; the setup-links ConfigMap by name', async () => {
    const objs = await render({ portal: PORTAL });
    expect(rules(find(objs, 'ClusterRole', 'gatehouse-portal'))).toEqual([
      { apiGroups: ['sso.gatehouse.dev'], resources: ['ssoprofiles', 'verifieddomains', 'managedusers'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
      { apiGroups: ['sso.gatehouse.dev'], resources: ['managedgroups'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gatehouse-scim-token'], verbs: ['get', 'delete'] },
    ]);
    expect(rules(find(objs, 'Role', 'gatehouse-portal'))).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['gatehouse-portal-setup-links'], verbs: ['get', 'update', 'patch'] },
    ]);
    const policy = find(objs, 'ValidatingAdmissionPolicy', 'gatehouse-portal-namespaces').spec as { failurePolicy: string; matchConditions: { expression: string }[] };
    expect(policy.failurePolicy).toBe('Fail');
    expect(policy.matchConditions[0]?.expression).toBe('request.userInfo.username == "system:serviceaccount:gatehouse-system:gatehouse-portal"');
    expect(find(objs, 'ValidatingAdmissionPolicyBinding', 'gatehouse-portal-namespaces').spec).toEqual({ policyName: 'gatehouse-portal-namespaces', validationActions: ['Deny'] });
    // Organizations listed: bound in those namespaces only.
    const listed = await render({ portal: PORTAL, rbac: { organizationNamespaces: { scope: 'Namespaces', namespaces: ['acme'] } } });
    expect(listed.filter((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'gatehouse-portal')).toEqual([]);
    expect(listed.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'gatehouse-portal').map((o) => o.metadata.namespace).sort()).toEqual(['acme', 'gatehouse-system']);
  });

  it('an existing ServiceAccount: none created, RBAC bound to it', async () => {
    const objs = await render({ portal: { ...PORTAL, serviceAccount: { create: false, name: 'admins-portal' } } });
    expect(objs.filter((o) => o.kind === 'ServiceAccount' && o.metadata.labels?.['app.kubernetes.io/component'] === 'portal')).toEqual([]);
    expect(podSpec(find(objs, 'Deployment', 'gatehouse-portal')).serviceAccountName).toBe('admins-portal');
    expect(JSON.stringify(find(objs, 'ClusterRoleBinding', 'gatehouse-portal'))).toContain('"name":"admins-portal"');
    expect(JSON.stringify(find(objs, 'ValidatingAdmissionPolicy', 'gatehouse-portal-namespaces'))).toContain('system:serviceaccount:gatehouse-system:admins-portal');
  });

  it('several replicas: a PodDisruptionBudget; its own Ingress on the host of portal.publicURL', async () => {
    const objs = await render({ redis: { url: 'redis://redis:6379' }, portal: { ...PORTAL, replicas: 2, ingress: { enabled: true, className: 'nginx', tls: { enabled: true } } } });
    expect(find(objs, 'PodDisruptionBudget', 'gatehouse-portal').spec).toMatchObject({ minAvailable: 1 });
    expect(find(objs, 'Ingress', 'gatehouse-portal').spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['portal.example.com'], secretName: 'gatehouse-portal-tls' }],
      rules: [{ host: 'portal.example.com', http: { paths: [{ path: '/', backend: { service: { name: 'gatehouse-portal', port: { name: 'http' } } } }] } }],
    });
  });

  it('NetworkPolicy: the portal reaches DNS, the API server, the sp-server, the issuer, redis and SMTP; the sp-server lets it in', async () => {
    const egressOf = async (portal: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      JSON.stringify((find(await render({ networkPolicy: { enabled: true }, publicURL: 'https://sso.example.com', portal: { ...PORTAL, ...portal }, ...extra }), 'NetworkPolicy', 'gatehouse-portal').spec as { egress: unknown }).egress);
    const plain = await egressOf({});
    expect(plain).toContain('{"port":53,"protocol":"UDP"}');
    expect(plain).toContain('{"port":6443,"protocol":"TCP"}');
    expect(plain).toContain('"to":[{"podSelector":{"matchLabels":{"app.kubernetes.io/name":"gatehouse","app.kubernetes.io/instance":"gatehouse","app.kubernetes.io/component":"sp-server"}}}],"ports":[{"port":8080,"protocol":"TCP"},{"port":9090,"protocol":"TCP"}]');
    expect(plain).not.toContain('{"port":587,');
    expect(plain).not.toContain('{"port":6379,');
    const withMail = await egressOf({ smtp: { url: 'smtp://mail.example.com', from: 'a@example.com' } }, { redis: { url: 'redis://r:6379' } });
    expect(withMail).toContain('{"port":587,"protocol":"TCP"}');
    expect(withMail).toContain('{"port":6379,"protocol":"TCP"}');
    expect(await egressOf({ smtp: { url: 'smtps://mail.example.com', from: 'a@example.com' } })).toContain('{"port":465,"protocol":"TCP"}');
    expect(await egressOf({ smtp: { url: 'smtp://u@mail.example.com:2525', from: 'a@example.com' } })).toContain('{"port":2525,"protocol":"TCP"}');
    const monitoring = [{ namespaceSelector: { matchLabels: { name: 'monitoring' } } }];
    const objs = await render({ networkPolicy: { enabled: true, metricsFrom: monitoring, portalFrom: [{ namespaceSelector: { matchLabels: { name: 'ingress' } } }] }, portal: PORTAL });
    const portalSelector = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gatehouse', 'app.kubernetes.io/instance': 'gatehouse', 'app.kubernetes.io/component': 'portal' } } };
    expect((find(objs, 'NetworkPolicy', 'gatehouse-sp-server').spec as { ingress: unknown[] }).ingress).toContainEqual({ ports: [{ port: 'metrics', protocol: 'TCP' }], from: [...monitoring, portalSelector] });
    expect((find(objs, 'NetworkPolicy', 'gatehouse-portal').spec as { ingress: unknown[] }).ingress).toEqual([
      { ports: [{ port: 'http', protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { name: 'ingress' } } }, ...monitoring] },
      { ports: [{ port: 'metrics', protocol: 'TCP' }], from: monitoring },
    ]);
  });

  it('lets an application client mint setup links, confidential clients only', async () => {
    const minting = { clientId: 'backend', redirectUris: ['https://app.example.com/cb'], public: false, clientSecretHash: 'sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8', mintSetupLinks: true };
    expect(parseClients(clientsOf(await render({ spServer: { oauthClients: [minting] } })))[0]?.mint_setup_links).toBe(true);
  });
});

describe('values the schema refuses', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['several sp-server replicas without redis', { spServer: { replicas: 2 } }, /redis\/url/],
    ['several operators without leader election', { operator: { replicas: 2, leaderElection: { enabled: false } } }, /leaderElection\/enabled/],
    ['a misspelt key', { operator: { replica: 2 } }, /additional properties 'replica' not allowed/],
    ['a publicURL that is not http(s)', { publicURL: 'sso.example.com' }, /publicURL/],
    ['a publicURL with a trailing slash', { publicURL: 'https://sso.example.com/' }, /publicURL/],
    ['an http publicURL behind a TLS ingress', { publicURL: 'http://sso.example.com', ingress: { enabled: true, tls: { enabled: true } } }, /publicURL/],
    ['a redis URL carrying the password', { redis: { url: 'redis://:hunter2@redis:6379' } }, /redis\/url/],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, /pullPolicy/],
    ['a string where a boolean belongs', { crds: { enabled: true, keep: 'yes' } }, /crds\/keep/],
    ['negative replicas', { spServer: { replicas: -1 } }, /spServer\/replicas/],
    ['an unknown rate limit', { spServer: { rateLimits: { authorise: { perIP: 1 } } } }, /rateLimits/],
    ['a zero rate limit', { spServer: { rateLimits: { token: { perIP: 0 } } } }, /rateLimits\/token\/perIP/],
    ['a trusted proxy that is not an address', { spServer: { trustedProxies: ['ingress-nginx'] } }, /trustedProxies/],
    ['a confidential OAuth client without a secret hash', { spServer: { oauthClients: [{ clientId: 'app', redirectUris: ['https://app.example.com/cb'], public: false }] } }, /clientSecretHash/],
    ['a public OAuth client with a secret hash', { spServer: { oauthClients: [{ clientId: 'app', redirectUris: ['https://app.example.com/cb'], public: true, clientSecretHash: 'sha256:0123456789abcdef' }] } }, /oauthClients\/0/],
    ['an OAuth client without redirect URIs', { spServer: { oauthClients: [{ clientId: 'app', redirectUris: [], public: true }] } }, /redirectUris/],
    ['a plain-http redirect URI off loopback', { spServer: { oauthClients: [{ clientId: 'app', redirectUris: ['http://app.example.com/cb'], public: true }] } }, /redirectUris\/0/],
    ['an ID-token algorithm Gatehouse does not sign with', { spServer: { oauthClients: [{ clientId: 'app', redirectUris: ['https://app.example.com/cb'], public: true, idTokenSignedResponseAlg: 'HS256' }] } }, /idTokenSignedResponseAlg/],
    ['allowed scopes without openid', { spServer: { oauthClients: [{ clientId: 'app', redirectUris: ['https://app.example.com/cb'], public: true, allowedScopes: ['email'] }] } }, /allowedScopes/],
    ['two IdP-initiated default clients', { spServer: { oauthClients: [
      { clientId: 'a', redirectUris: ['https://a.example.com/cb'], public: true, idpInitiatedDefault: true },
      { clientId: 'b', redirectUris: ['https://b.example.com/cb'], public: true, idpInitiatedDefault: true },
    ] } }, /oauthClients/],
    ['the same clientId twice', { spServer: { oauthClients: [
      { clientId: 'a', redirectUris: ['https://a.example.com/cb'], public: true },
      { clientId: 'a', redirectUris: ['https://b.example.com/cb'], public: true },
    ] } }, /clientId "a" is listed twice/],
    ['Namespaces scope without namespaces', { rbac: { organizationNamespaces: { scope: 'Namespaces' } } }, /namespaces/],
    ['a DNS server that is a host name', { operator: { dnsServers: ['dns.example.com'] } }, /dnsServers\/0/],
    ['an expiry warning that is not a duration', { operator: { certificateExpiryWarning: '30 days' } }, /certificateExpiryWarning/],
    ['a test link lifetime that is not a duration', { operator: { testLinkTTL: '1 day' } }, /testLinkTTL/],
    ['the portal without its public URL', { portal: { enabled: true } }, /portal\/publicURL/],
    ['the portal with an empty public URL', { portal: { enabled: true, publicURL: '' } }, /portal\/publicURL/],
    ['a portal URL with a trailing slash', { portal: { enabled: true, publicURL: 'https://portal.example.com/' } }, /portal\/publicURL/],
    ['an http portal URL behind a TLS ingress', { portal: { enabled: true, publicURL: 'http://portal.example.com', ingress: { enabled: true, tls: { enabled: true } } } }, /portal\/publicURL/],
    ['several portal replicas without redis', { portal: { enabled: true, publicURL: 'https://portal.example.com', replicas: 2 } }, /redis\/url/],
    ['an SMTP URL carrying the password', { portal: { smtp: { url: 'smtp://user:hunter2@mail.example.com', from: 'a@example.com' } } }, /smtp\/url/],
    ['an SMTP URL without a sender', { portal: { smtp: { url: 'smtp://mail.example.com' } } }, /smtp\/from/],
    ['a setup link lifetime that is not a duration', { portal: { setupLinkTTL: '1 day' } }, /setupLinkTTL/],
    ['an admin role with a comma', { portal: { adminRoles: ['admin,owner'] } }, /adminRoles\/0/],
    ['a misspelt portal key', { portal: { enable: true } }, /additional properties 'enable' not allowed/],
    ["the portal's own client secret without its hash", { portal: { enabled: true, publicURL: 'https://portal.example.com', oidcClient: { existingSecret: 'portal-client' } } }, /oidcClient\/clientSecretHash/],
    ["the portal's client secret hash that is not sha256", { portal: { oidcClient: { existingSecret: 'portal-client', clientSecretHash: '$argon2id$v=19$m=1,t=1,p=1$AA$AA' } } }, /oidcClient\/clientSecretHash/],
    ['a public client that mints setup links', { spServer: { oauthClients: [{ clientId: 'app', redirectUris: ['https://app.example.com/cb'], public: true, mintSetupLinks: true }] } }, /oauthClients\/0/],
    ['an application client named like the portal\'s', { portal: { enabled: true, publicURL: 'https://portal.example.com' }, spServer: { oauthClients: [{ clientId: 'gatehouse-portal', redirectUris: ['https://a.example.com/cb'], public: true }] } }, /gatehouse-portal" is the admin portal's own client/],
    ['the portal\'s metrics on its public port', { portal: { enabled: true, publicURL: 'https://portal.example.com', port: 9000, metricsPort: 9000 } }, /portal.metricsPort and portal.port must differ/],
  ];

  it.each(bad)('refuses %s', async (_name, values, message) => {
    const res = await renderRaw(values);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(message);
  });

  it('helm lint refuses them too', async () => {
    const res = await helm(['lint', CHART_DIR, '--values', '-'], { stdin: JSON.stringify({ spServer: { replicas: 2 } }) });
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/redis\/url/);
  });
});

describe('rendered manifests on kube-apiserver (server-side dry run, strict field validation)', () => {
  const combinations: [string, Record<string, unknown>][] = [
    ['default values', {}],
    ['everything on', {
      publicURL: 'https://sso.example.com',
      operator: { replicas: 2, dnsServers: ['10.0.0.53:53'] },
      spServer: {
        replicas: 3,
        jitProvisioning: true,
        oauthClients: [{ clientId: 'console', redirectUris: ['https://console.example.com/cb'], public: false, clientSecretHash: 'sha256:0123456789abcdef0123' }],
      },
      scim: { enabled: true },
      redis: { url: 'redis://redis:6379/0', existingSecret: 'redis-auth' },
      ingress: { enabled: true, className: 'nginx', tls: { enabled: true } },
      networkPolicy: { enabled: true, spServerFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] },
    }],
    ['organization namespaces listed', { rbac: { organizationNamespaces: { scope: 'Namespaces', namespaces: ['dryrun-org'] } } }],
    ['admin portal on', {
      publicURL: 'https://sso.example.com',
      redis: { url: 'redis://redis:6379/0', existingSecret: 'redis-auth' },
      networkPolicy: { enabled: true },
      rbac: { organizationNamespaces: { scope: 'Namespaces', namespaces: ['dryrun-org'] } },
      portal: { enabled: true, publicURL: 'https://portal.example.com', replicas: 2, smtp: { url: 'smtps://mailer@mail.example.com', from: 'sso@example.com', existingSecret: 'smtp' }, ingress: { enabled: true, tls: { enabled: true } } },
    }],
  ];

  it.each(combinations)('%s: accepted, and no Pod Security warning under enforce=restricted', async (name, values) => {
    const ns = `chart-dryrun-${combinations.findIndex(([n]) => n === name)}`;
    const nsYaml = [
      'apiVersion: v1', 'kind: Namespace', `metadata: {name: ${ns}, labels: {pod-security.kubernetes.io/enforce: restricted, pod-security.kubernetes.io/warn: restricted}}`,
      '---', 'apiVersion: v1', 'kind: Namespace', 'metadata: {name: dryrun-org}',
    ].join('\n');
    const created = await kubectl(kubeconfig, ['apply', '-f', '-'], nsYaml);
    expect(created.code, created.stderr).toBe(0);
    try {
      const rendered = await renderRaw(values, { namespace: ns });
      expect(rendered.code, rendered.stderr).toBe(0);
      const objs = (await render(values, { namespace: ns }));
      // Hooks included: the helm test Pod is a real Pod, which PodSecurity admission enforces on.
      expect(objs.some((o) => o.kind === 'Pod')).toBe(true);
      const res = await kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '--field-manager=chart-dryrun', '--dry-run=server', '--validate=strict', '-f', '-'], rendered.stdout);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const lines = res.stdout.trim().split('\n');
      expect(lines).toHaveLength(objs.length);
      for (const line of lines) expect(line).toMatch(/serverside-applied \(server dry run\)$/);
    } finally {
      await kubectl(kubeconfig, ['delete', 'namespace', ns, '--wait=false']);
    }
  });
});
