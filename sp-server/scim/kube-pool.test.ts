import { generateKeyPairSync } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pooledKubeConfig } from './kube-pool.ts';

type WithDispatcher = { createDispatcher(cluster: unknown, opts: object): unknown };

describe('pooledKubeConfig', () => {
  const kc = new KubeConfig();
  const ca = Buffer.from(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' })).toString('base64');
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: ca, skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });

  it('reuses one dispatcher per TLS configuration, where the original builds one per request', () => {
    const cluster = kc.getCurrentCluster();
    const original = kc as unknown as WithDispatcher;
    const pool = pooledKubeConfig(kc);
    const pooled = pool.kubeConfig as unknown as WithDispatcher;
    expect(original.createDispatcher(cluster, { ca: 'a' })).not.toBe(original.createDispatcher(cluster, { ca: 'a' }));
    const first = pooled.createDispatcher(cluster, { ca: 'a' });
    expect(first).toBeDefined();
    expect(pooled.createDispatcher(cluster, { ca: 'a' })).toBe(first);
    expect(pooled.createDispatcher(cluster, { ca: 'b' })).not.toBe(first);
    return pool.close();
  });

  it('still reads contexts and users from the original KubeConfig', () => {
    const pooled = pooledKubeConfig(kc).kubeConfig;
    expect(pooled.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(pooled.getCurrentUser()?.token).toBe('t');
  });
});
