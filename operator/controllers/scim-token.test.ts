// The SCIM token controller's decisions, without an API server: create the token Secret only for
// a labelled, live namespace that has none; never overwrite one; tolerate losing a create race.
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../kube/client.ts';
import type { NamespaceObject, SecretObject } from '../context.ts';
import { queueKey } from '../queue-key.ts';
import { SCIM_ENABLED_LABEL, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from '../scim-token.ts';
import { cacheOf, fakeClient, recordingQueue, type ApiCall } from '../test-doubles.ts';
import { reconcileScimToken, scimOfNamespace } from './scim-token.ts';

const labelled = (name: string, extra: Partial<NamespaceObject['metadata']> = {}): NamespaceObject => ({ metadata: { name, labels: { [SCIM_ENABLED_LABEL]: 'enabled' }, ...extra } });
const tokenSecret = (namespace: string, token: string): SecretObject => ({ metadata: { name: SCIM_TOKEN_SECRET_NAME, namespace }, data: { token: Buffer.from(token).toString('base64') } });

function operatorWith(namespaces: NamespaceObject[], secrets: SecretObject[], answer?: (c: ApiCall) => unknown) {
  const { client, calls } = fakeClient(answer);
  const queue = recordingQueue();
  return { ctx: { client, queue, log: pino({ level: 'silent' }), scimNamespaces: cacheOf(namespaces), scimSecrets: cacheOf(secrets) }, calls, queue };
}

describe('SCIM token controller', () => {
  it('creates the token Secret with a random 256-bit token for a labelled namespace without one, and renders the config again', async () => {
    const { ctx, calls, queue } = operatorWith([labelled('acme')], []);
    await reconcileScimToken(ctx, queueKey.namespace('acme'));
    expect(calls.map((c) => [c.method, c.path])).toEqual([['POST', '/api/v1/namespaces/acme/secrets']]);
    const created = calls[0]?.body as SecretObject;
    expect(created.metadata).toMatchObject({ name: SCIM_TOKEN_SECRET_NAME, namespace: 'acme' });
    expect(tokenOfSecret(created)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(queue.keys).toEqual(['Config']);
    // A second namespace gets a different token.
    const other = operatorWith([labelled('beta')], []);
    await reconcileScimToken(other.ctx, queueKey.namespace('beta'));
    expect(tokenOfSecret(other.calls[0]?.body as SecretObject)).not.toBe(tokenOfSecret(created));
  });

  it('keeps an existing Secret (the organization may have replaced the token) and renders only its digest', async () => {
    const token = 't'.repeat(43);
    const { ctx, calls, queue } = operatorWith([labelled('acme')], [tokenSecret('acme', token)]);
    await reconcileScimToken(ctx, queueKey.namespace('acme'));
    expect(calls).toEqual([]);
    expect(queue.keys).toEqual(['Config']);
    expect(scimOfNamespace(ctx, 'acme')).toEqual({ tokenSHA256: [createHash('sha256').update(token).digest('hex')] });
  });

  it('does nothing for a namespace that is not labelled (not in the cache) or is terminating, but still renders', async () => {
    const { ctx, calls, queue } = operatorWith([labelled('gone', { deletionTimestamp: '2026-01-01T00:00:00Z' })], [tokenSecret('off', 'x'.repeat(43))]);
    await reconcileScimToken(ctx, queueKey.namespace('off'));
    await reconcileScimToken(ctx, queueKey.namespace('gone'));
    expect(calls).toEqual([]);
    expect(queue.keys).toEqual(['Config', 'Config']);
    expect(scimOfNamespace(ctx, 'off')).toBeUndefined();
  });

  it('treats losing the create race (409) and a namespace being deleted (403) as done, and fails on other errors', async () => {
    const failing = (code: number, message: string) => () => {
      throw new KubeApiError(code, 'Reason', message, undefined);
    };
    for (const [code, message] of [
      [409, 'already exists'],
      [403, 'namespace acme is being terminated'],
    ] as const) {
      const { ctx } = operatorWith([labelled('acme')], [], failing(code, message));
      await expect(reconcileScimToken(ctx, queueKey.namespace('acme'))).resolves.toEqual({});
    }
    const { ctx } = operatorWith([labelled('acme')], [], failing(500, 'etcd unavailable'));
    await expect(reconcileScimToken(ctx, queueKey.namespace('acme'))).rejects.toThrow('etcd unavailable');
  });
});
