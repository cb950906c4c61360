// The generated CRDs on a real API server: installed, Established, serving the printer columns,
// and accepting every file in examples/.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GROUP, KINDS } from '../../crds/api/index.ts';
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
      ['ssoprofiles', ['NAME', 'IDP', 'TESTED', 'ENFORCEMENT', 'READY', 'AGE']],
    ] as const) {
      // The columns the server stored (and serves to every kubectl), priority-0 ones only.
      const crd = await readCRD(`${resource}.${GROUP}`);
      const names = ['NAME', ...(crd.spec.versions[0]?.additionalPrinterColumns ?? []).filter((c) => !c.priority).map((c) => c.name.toUpperCase())];
      expect(names).toEqual(columns);
    }
  });
});

describe('examples/ (one realistic organization)', () => {
  const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml')).sort();

  beforeAll(async () => {
    // Namespaced objects can only be dry-run into a namespace that exists.
    const ns = await kubectl(kubeconfig, ['apply', '-f', join(root, 'examples', '00-namespace.yaml')]);
    expect(ns.code, ns.stderr).toBe(0);
  });

  it('has the files the README promises', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s is accepted by kubectl apply --dry-run=server', async (file) => {
    const res = await kubectl(kubeconfig, ['apply', '--dry-run=server', '-f', join(root, 'examples', file)]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\(server dry run\)/);
  });
});
