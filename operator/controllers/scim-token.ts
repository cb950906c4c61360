// SCIM token per organization: a namespace labelled sso.gatehouse.dev/scim=enabled gets a Secret
// gatehouse-scim-token with a random token when it has none; the rendered config carries only
// its sha256 (renderConfig reads both caches). A deleted or replaced Secret is a rotation: a
// deleted one is created again with a new token, and the config is rendered again either way.
import { newScimTokenSecret, renderScim, SCIM_TOKEN_SECRET_NAME } from '../scim-token.ts';
import { type Context, type ReconcileResult } from '../context.ts';
import { isConflict, KubeApiError, resourcePath } from '../../kube/client.ts';
import { queueKey, type KeyOf } from '../queue-key.ts';
import type { Controller } from './controller.ts';
import { CONFIG_DEBOUNCE_MS } from './watch.ts';
import { RESOURCES } from '../../kube/resources.ts';

/** What renderConfig puts in the organization's `scim` field (undefined: SCIM is off there). */
export function scimOfNamespace(ctx: Pick<Context, 'scimNamespaces' | 'scimSecrets'>, namespace: string): { tokenSHA256: string[] } | undefined {
  const ns = ctx.scimNamespaces.get('', namespace);
  if (!ns) return undefined;
  const secret = ctx.scimSecrets.get(namespace, SCIM_TOKEN_SECRET_NAME);
  return renderScim({ metadata: { labels: ns.metadata.labels ?? {} } }, secret && { data: secret.data ?? {}, ...(secret.stringData ? { stringData: secret.stringData } : {}) });
}

export async function reconcileScimToken(ctx: Pick<Context, 'queue' | 'scimNamespaces' | 'scimSecrets' | 'client' | 'log'>, key: KeyOf<'Namespace'>): Promise<ReconcileResult> {
  const namespace = key.name;
  // Whatever happens below, the organization's scim field may have changed.
  ctx.queue.addAfter(queueKey.config, CONFIG_DEBOUNCE_MS);
  const ns = ctx.scimNamespaces.get('', namespace);
  // Unlabelled (gone from the label-selected cache) or terminating: nothing to create. An
  // existing Secret is left alone: deleting it is the organization's way to retire the token.
  if (!ns || ns.metadata.deletionTimestamp) return {};
  if (ctx.scimSecrets.get(namespace, SCIM_TOKEN_SECRET_NAME)) {
    if (scimOfNamespace(ctx, namespace)?.tokenSHA256.length === 0) {
      ctx.log.warn({ namespace, secret: SCIM_TOKEN_SECRET_NAME }, 'SCIM token Secret holds no usable token (key "token", at least 32 printable characters): SCIM refuses every request');
    }
    return {};
  }
  try {
    await ctx.client.call('POST', resourcePath(RESOURCES.Secret, namespace), { body: newScimTokenSecret(namespace), discardBody: true });
    ctx.log.info({ namespace, secret: SCIM_TOKEN_SECRET_NAME }, 'SCIM token Secret created');
  } catch (err) {
    // Created meanwhile (by the organization, or an informer that has not caught up): the
    // watch delivers it and re-queues this namespace.
    if (isConflict(err)) return {};
    if (err instanceof KubeApiError && err.code === 403 && /terminat/i.test(err.message)) return {};
    throw err;
  }
  return {};
}

export const scimTokenController: Controller<'Namespace'> = {
  kind: 'Namespace',
  queue: 'control',
  // A namespace labelled or unlabelled, a token Secret created, replaced or deleted: each
  // re-checks the Secret and renders the config again (resyncs too: a Secret deleted while no
  // watch was open is recreated at the next relist).
  watch(ctx, queue) {
    ctx.scimNamespaces.on((_event, n) => queue.add(queueKey.namespace(n.metadata.name)));
    ctx.scimSecrets.on((_event, s) => {
      if (s.metadata.namespace) queue.add(queueKey.namespace(s.metadata.namespace));
    });
  },
  *initialKeys(ctx) {
    for (const n of ctx.scimNamespaces.all()) yield queueKey.namespace(n.metadata.name);
  },
  reconcile: reconcileScimToken,
};
