// The generated CRDs on a real API server: installed, Established, serving the printer columns,
// and accepting every file in examples/.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GROUP, KINDS } from '../../crds/api/index.ts';
import { OIDC_DEFAULTS, OIDC_PROVIDERS } from '../../crds/api/oidc.ts';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { testClient } from '../support/kube.ts';

const root = join(import.meta.dirname, '..', '..');
const kubeconfig = inject('kubeconfig');

/** The parts of a CustomResourceDefinition these tests read, as the API server serves it. */
interface ServedCRD {
  spec: { scope: string; versions: { subresources?: { status?: object }; additionalPrinterColumns?: { name: string; priority?: number }[] }[] };
  status?: { conditions?: { type: string; status: string }[]; acceptedNames?: { shortNames?: string[] } };
}

describe('generated CRDs on kube-apiserver', () => {
  let client: KubeClient;
  const readCRD = (name: string) => client.call<ServedCRD>('GET', resourcePath({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' }, undefined, name));
  beforeAll(async () => {
    client = await testClient(kubeconfig);
  });
  afterAll(async () => {
    await client?.close();
  });

  it.each(KINDS.map((k) => [k.kind, k] as const))('%s is Established with the status subresource and short names', async (_kind, def) => {
    const crd = await readCRD(`${def.plural}.${GROUP}`);
    const established = crd.status?.conditions?.find((c) => c.type === 'Established');
    expect(established?.status).toBe('True');
    expect(crd.spec.versions[0]?.subresources?.status).toEqual({});
    expect(crd.status?.acceptedNames?.shortNames).toEqual(def.shortNames);
    expect(crd.spec.scope).toBe('Namespaced');
  });

  it('serves the printer columns an admin wants in kubectl get', async () => {
    const ns = 'printer-columns';
    await kubectl(kubeconfig, ['create', 'namespace', ns]);
    const created = await kubectl(kubeconfig, ['apply', '-n', ns, '-f', '-'], [
      'apiVersion: sso.gatehouse.dev/v1alpha1',
      'kind: VerifiedDomain',
      'metadata: {name: example-com}',
      'spec: {domain: example.com}',
    ].join('\n'));
    expect(created.code, created.stderr).toBe(0);
    const res = await kubectl(kubeconfig, ['get', 'vd', '-n', ns]);
    expect(res.code, res.stderr).toBe(0);
    const [header, row] = res.stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['NAME', 'DOMAIN', 'VERIFIED', 'REASON', 'AGE']);
    expect(row).toMatch(/^example-com\s+example\.com\s/);
    for (const [resource, columns] of [
      ['managedusers', ['NAME', 'EMAIL', 'ACTIVE', 'SSO', 'ENFORCED', 'PROFILE', 'AGE']],
      ['ssoprofiles', ['NAME', 'IDP', 'ISSUER', 'TESTED', 'ENFORCEMENT', 'READY', 'AGE']],
    ] as const) {
      // The columns the server stored (and serves to every kubectl), priority-0 ones only.
      const crd = await readCRD(`${resource}.${GROUP}`);
      const names = ['NAME', ...(crd.spec.versions[0]?.additionalPrinterColumns ?? []).filter((c) => !c.priority).map((c) => c.name.toUpperCase())];
      expect(names).toEqual(columns);
    }
  });
});

describe('examples/ (one realistic organization)', () => {
  // The organization's files, then the OIDC alternatives in examples/oidc/ (applied on their own:
  // they list the same domains as the SAML profiles, and the oldest profile listing a domain serves it).
  const yaml = (dir: string) => readdirSync(join(root, 'examples', dir)).filter((f) => f.endsWith('.yaml')).sort().map((f) => (dir ? `${dir}/${f}` : f));
  const files = [...yaml(''), ...yaml('oidc')];

  beforeAll(async () => {
    // Namespaced objects can only be dry-run into a namespace that exists.
    const ns = await kubectl(kubeconfig, ['apply', '-f', join(root, 'examples', '00-namespace.yaml')]);
    expect(ns.code, ns.stderr).toBe(0);
  });

  it('has the files the README promises', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it('has an SSOProfile per OIDC preset, and the Secret holds every client secret they name', () => {
    interface Doc { kind?: string; metadata?: { name?: string }; spec?: { oidc?: { provider?: string; clientSecretRef?: { name?: string; key?: string } } }; stringData?: Record<string, string> }
    const docs = files.flatMap((f) => parseAllDocuments(readFileSync(join(root, 'examples', f), 'utf8')).map((d) => d.toJS() as Doc));
    const oidcProfiles = docs.filter((d) => d.kind === 'SSOProfile' && d.spec?.oidc);
    expect(new Set(oidcProfiles.map((p) => p.spec?.oidc?.provider))).toEqual(new Set(OIDC_PROVIDERS));
    const secret = docs.find((d) => d.kind === 'Secret' && d.metadata?.name === OIDC_DEFAULTS.clientSecretName);
    for (const ref of oidcProfiles.flatMap((p) => (p.spec?.oidc?.clientSecretRef ? [p.spec.oidc.clientSecretRef] : []))) {
      expect(ref.name).toBe(OIDC_DEFAULTS.clientSecretName);
      expect(Object.keys(secret?.stringData ?? {})).toContain(ref.key);
    }
  });

  it.each(files)('%s is accepted by kubectl apply --dry-run=server', async (file) => {
    const res = await kubectl(kubeconfig, ['apply', '--dry-run=server', '-f', join(root, 'examples', file)]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\(server dry run\)/);
  });
});
