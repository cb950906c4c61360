// Builds an organization the way an admin would: a VerifiedDomain proven through real DNS,
// profiles and users created through the API, test results written as the sp-server writes them.
import type { SSOProfile, VerifiedDomain } from '../../crds/api/index.ts';
import { API_VERSION } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { DnsServer } from './dns-server.ts';
import { condition, create, crPath, getDomain } from './kube.ts';
import { waitFor } from './wait.ts';

export async function verifyDomain(client: KubeClient, dns: DnsServer, ns: string, domain: string): Promise<VerifiedDomain> {
  const name = domain.replace(/\./g, '-');
  await create(client, 'verifieddomains', ns, { kind: 'VerifiedDomain', metadata: { name }, spec: { domain } });
  const token = await waitFor(`a token for ${domain}`, async () => (await getDomain(client, ns, name)).status?.verification?.recordValue, 20_000);
  await dns.setTxt(`_gatehouse-challenge.${domain}`, [token]);
  return waitFor(`${domain} Verified in ${ns}`, async () => {
    const d = await getDomain(client, ns, name);
    return condition(d, 'Verified')?.status === 'True' ? d : undefined;
  }, 20_000, async () => JSON.stringify((await getDomain(client, ns, name)).status));
}

/** Writes status.test as the sp-server does: server-side apply with its own field manager. */
export async function recordTestResult(client: KubeClient, ns: string, profile: string, result: 'Succeeded' | 'Failed', email: string, extra: Record<string, string> = {}): Promise<SSOProfile> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return client.apply<SSOProfile>(crPath('ssoprofiles', ns, profile), {
    apiVersion: API_VERSION,
    kind: 'SSOProfile',
    metadata: { name: profile, namespace: ns },
    status: { test: { result, email, attemptedTime: now, completedTime: now, ...extra } },
  }, 'gatehouse-sp-server', { subresource: 'status', force: true });
}
