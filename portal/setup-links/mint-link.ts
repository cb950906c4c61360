// Mints a setup link from the command line, for a platform engineer with kubectl:
//   kubectl -n <gatehouse namespace> exec deploy/<release>-portal -- node portal/setup-links/mint-link.ts --namespace <org> [--ttl 24h] [--for admin@example.com]
// It runs with the portal's ServiceAccount and settings (GATEHOUSE_PORTAL_PUBLIC_URL and
// POD_NAMESPACE in the pod) and prints the link. Revoke with --revoke <id>, list with --list.
import { parseArgs } from 'node:util';
import { parseDuration } from '../../crds/api/duration.ts';
import { KubeClient } from '../../kube/client.ts';
import { loadCredentials } from '../../kube/kubeconfig.ts';
import { SetupLinks, setupLinkTTLAllowed } from './links.ts';

// The image build starts it once with GATEHOUSE_LOAD_ONLY=1 (hack/fill-compile-cache.sh), so a
// `kubectl exec` of it in the portal's pod compiles nothing and loads no type stripper.
if (process.env.GATEHOUSE_LOAD_ONLY === '1') process.exit(0);

const { values: f } = parseArgs({
  options: {
    namespace: { type: 'string' },
    ttl: { type: 'string', default: '24h' },
    for: { type: 'string' },
    revoke: { type: 'string' },
    list: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'public-url': { type: 'string' },
    'gatehouse-namespace': { type: 'string' },
    'setup-links-configmap': { type: 'string' },
  },
  strict: true,
});

const publicURL = f['public-url'] ?? process.env.GATEHOUSE_PORTAL_PUBLIC_URL;
const gatehouseNamespace = f['gatehouse-namespace'] ?? process.env.GATEHOUSE_PORTAL_GATEHOUSE_NAMESPACE ?? process.env.POD_NAMESPACE;
if (!publicURL || !gatehouseNamespace || (!f.namespace && !f.revoke && !f.list)) {
  console.error('usage: mint-link.ts --namespace <organization> [--ttl 24h] [--for <admin email>] | --revoke <id> | --list  (with --public-url and --gatehouse-namespace outside the portal pod)');
  process.exit(2);
}
const kube = await KubeClient.create(await loadCredentials(f.kubeconfig ?? process.env.KUBECONFIG), { userAgent: 'gatehouse-portal-mint-link' });
const links = new SetupLinks(kube, { namespace: gatehouseNamespace, configMap: f['setup-links-configmap'] ?? process.env.GATEHOUSE_PORTAL_SETUP_LINKS_CONFIGMAP ?? 'gatehouse-portal-setup-links', publicURL: publicURL.replace(/\/$/, '') });
try {
  if (f.list) {
    for (const l of await links.list(f.namespace)) console.log(`${l.id}  ${l.namespace}  expires ${l.expiresAt}  by ${l.createdBy}`);
  } else if (f.revoke) {
    const revoked = await links.revoke(f.revoke);
    console.log(revoked ? `revoked ${f.revoke}` : `no live setup link ${f.revoke}`);
    process.exitCode = revoked ? 0 : 1;
  } else {
    const ttlMs = parseDuration(f.ttl);
    if (!setupLinkTTLAllowed(ttlMs)) throw new Error('--ttl must be between 1m and 168h');
    const link = await links.mint(f.namespace as string, 'kubectl exec', ttlMs, f.for);
    console.log(link.url);
    console.error(`setup link ${link.id} for ${link.namespace}, single use, expires ${link.expiresAt}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
} finally {
  await kube.close();
}
