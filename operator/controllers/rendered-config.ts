// The rendered SP config: one Secret in Gatehouse's namespace with every organization's valid
// profiles, deterministic bytes and their sha256. Never written with an invalid document.
import { createHash } from 'node:crypto';
import {
  ORGANIZATION_DISPLAY_NAME_ANNOTATION,
  renderedOrganization,
  SP_CONFIG_FORMAT_VERSION,
  SP_CONFIG_HASH_ANNOTATION,
  SP_CONFIG_LABEL,
  SP_CONFIG_SECRET_KEY,
  spConfig,
  type RenderedOrganization,
} from '../../crds/api/index.ts';
import { FIELD_MANAGER, stableStringify, type Context, type ReconcileResult } from '../context.ts';
import { isNotFound, resourcePath } from '../../kube/client.ts';
import { verifiedDomainsOf } from '../organization.ts';
import { queueKey } from '../queue-key.ts';
import type { Controller } from './controller.ts';
import { scimOfNamespace } from './scim-token.ts';
import { CONFIG_DEBOUNCE_MS, verificationChanged } from './watch.ts';
import { RESOURCES } from '../../kube/resources.ts';

export function renderConfig(ctx: Context): { json: string; hash: string; leftOut: string[] } {
  // Organizations with SCIM on appear even before they have a profile or a verified domain:
  // the SCIM endpoint authenticates against their entry.
  const scimNamespaces = [...ctx.scimNamespaces.all()].map((n) => n.metadata.name);
  const namespaces = new Set([...ctx.domains.namespaces(), ...ctx.profiles.namespaces(), ...scimNamespaces]);
  const organizations: RenderedOrganization[] = [];
  const leftOut: string[] = [];
  for (const ns of [...namespaces].sort()) {
    const fragments = [...ctx.profiles.inNamespace(ns)].flatMap((p) => ctx.fragments.get(`${ns}/${p.metadata.name}`) ?? []);
    const profiles = fragments.flatMap((f) => (f.ok ? [f.profile] : [])).sort((a, b) => (a.name < b.name ? -1 : 1));
    const enforcedWithoutProfile = fragments.flatMap((f) => f.enforcement ?? []).sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
    const verifiedDomains = [...verifiedDomainsOf(ctx.domains, ns, ctx.domainProofKey)].sort();
    const scim = scimOfNamespace(ctx, ns);
    if (profiles.length === 0 && verifiedDomains.length === 0 && enforcedWithoutProfile.length === 0 && !scim) continue;
    const displayName = displayNameOf(ctx, ns);
    const org = renderedOrganization.safeParse({ namespace: ns, ...(displayName ? { displayName } : {}), verifiedDomains, profiles, ...(enforcedWithoutProfile.length > 0 ? { enforcedWithoutProfile } : {}), ...(scim ? { scim } : {}) });
    if (org.success) organizations.push(org.data);
    else {
      leftOut.push(ns);
      ctx.log.error({ namespace: ns, issues: org.error.issues.slice(0, 5) }, 'organization left out of the SP config: invalid');
    }
  }
  const doc = spConfig.parse({ formatVersion: SP_CONFIG_FORMAT_VERSION, organizations });
  const json = stableStringify(doc, 2) + '\n';
  return { json, hash: createHash('sha256').update(json).digest('hex'), leftOut };
}

/** The namespace's display-name annotation, trimmed and cut to the contract's length; none when blank. */
function displayNameOf(ctx: Pick<Context, 'displayNames'>, namespace: string): string | undefined {
  const name = ctx.displayNames.get('', namespace)?.metadata.annotations?.[ORGANIZATION_DISPLAY_NAME_ANNOTATION]?.trim();
  return name ? name.slice(0, 256) : undefined;
}

export async function reconcileRenderedConfig(ctx: Context): Promise<ReconcileResult> {
  if (!ctx.domains.synced || !ctx.profiles.synced || !ctx.users.synced || !ctx.scimNamespaces.synced || !ctx.displayNames.synced || !ctx.scimSecrets.synced) return { requeueAfterMs: 500 };
  // Right after start, wait until every profile was reconciled once: rendering earlier would
  // drop organizations from the live config.
  for (const p of ctx.profiles.all()) {
    if (!ctx.fragments.has(`${p.metadata.namespace}/${p.metadata.name}`)) return { requeueAfterMs: 500 };
  }
  const { json, hash } = renderConfig(ctx);
  const ns = ctx.config.namespace;
  const path = resourcePath(RESOURCES.Secret, ns, ctx.config.configSecret);
  let existing: { metadata: { resourceVersion?: string; annotations?: Record<string, string> } } | undefined;
  try {
    existing = await ctx.client.call('GET', path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (existing?.metadata.annotations?.[SP_CONFIG_HASH_ANNOTATION] === hash) {
    return {};
  }
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: ctx.config.configSecret,
      namespace: ns,
      labels: { [SP_CONFIG_LABEL]: 'true', 'app.kubernetes.io/managed-by': FIELD_MANAGER },
      annotations: { [SP_CONFIG_HASH_ANNOTATION]: hash },
      ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
    },
    data: { [SP_CONFIG_SECRET_KEY]: Buffer.from(json).toString('base64') },
  };
  if (existing) await ctx.client.call('PUT', path, { body });
  else await ctx.client.call('POST', resourcePath(RESOURCES.Secret, ns), { body });
  ctx.metrics.configRenders.inc();
  ctx.log.info({ hash, bytes: json.length }, 'rendered SP config written');
  return {};
}

export const renderedConfigController: Controller<'Config'> = {
  kind: 'Config',
  queue: 'control',
  // Profiles' pieces and SCIM tokens queue the config from their own reconciles; domain and
  // profile events queue it here, batched.
  watch(ctx, queue) {
    ctx.domains.on((event, vd, old) => {
      if (verificationChanged(event, vd, old)) queue.addAfter(queueKey.config, CONFIG_DEBOUNCE_MS);
    });
    ctx.profiles.on((event) => {
      if (event !== 'resync') queue.addAfter(queueKey.config, CONFIG_DEBOUNCE_MS);
    });
    // The cache keeps only the annotation: an update that leaves it as it was changes nothing.
    ctx.displayNames.on((event, ns, old) => {
      if (event === 'resync') return;
      const key = ORGANIZATION_DISPLAY_NAME_ANNOTATION;
      if (event !== 'update' || ns.metadata.annotations?.[key] !== old?.metadata.annotations?.[key]) queue.addAfter(queueKey.config, CONFIG_DEBOUNCE_MS);
    });
  },
  *initialKeys() {
    yield queueKey.config;
  },
  reconcile: (ctx) => reconcileRenderedConfig(ctx),
};
