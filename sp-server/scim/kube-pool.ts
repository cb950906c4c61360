// @kubernetes/client-node 2.0.1 builds a new undici Agent for every request
// (KubeConfig.applySecurityAuthentication → createDispatcher), so no connection is ever reused
// and each API call pays a fresh TLS handshake. A SCIM create makes four API calls; under load
// the handshakes dominate. This view of a KubeConfig memoizes the dispatcher per TLS/proxy
// configuration; everything else (contexts, tokens, headers) still comes from the original
// object, whose own behaviour is left untouched.
import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (cluster: Cluster | null, agentOptions: AgentOptions) => unknown;

const MAX_DISPATCHERS = 8;

export interface PooledKubeConfig {
  kubeConfig: KubeConfig;
  /** Closes the pooled connections (on server shutdown). */
  close(): Promise<void>;
}

export function pooledKubeConfig(kubeConfig: KubeConfig): PooledKubeConfig {
  const original = (kubeConfig as unknown as { createDispatcher?: CreateDispatcher }).createDispatcher;
  if (typeof original !== 'function') return { kubeConfig, close: async () => {} };
  const pooled = Object.create(kubeConfig) as KubeConfig;
  const cache = new Map<string, unknown>();
  const createDispatcher: CreateDispatcher = function (this: KubeConfig, cluster, agentOptions) {
    // The key covers CA, client certificate and key, proxy and server name: a rotated client
    // certificate gets a new pool.
    const key = createHash('sha256')
      .update(JSON.stringify([cluster?.server, kubeConfig.createDispatcherOptions(cluster, agentOptions)]))
      .digest('hex');
    if (cache.has(key)) return cache.get(key);
    const dispatcher = original.call(this, cluster, agentOptions);
    if (cache.size >= MAX_DISPATCHERS) cache.delete(cache.keys().next().value!);
    cache.set(key, dispatcher);
    return dispatcher;
  };
  Object.defineProperty(pooled, 'createDispatcher', { value: createDispatcher });
  return {
    kubeConfig: pooled,
    async close() {
      const dispatchers = [...cache.values()];
      cache.clear();
      await Promise.all(
        dispatchers.map(async (d) => {
          const closable = d as { close?: () => Promise<void> } | undefined;
          if (typeof closable?.close === 'function') await closable.close();
        }),
      );
    },
  };
}
