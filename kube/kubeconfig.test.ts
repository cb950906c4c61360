import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCredentials } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadCredentials', () => {
  it('reads the current context: server, CA data, token, client certificate files relative to the kubeconfig', async () => {
    writeFileSync(join(dir, 'client.crt'), 'CERT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    const file = join(dir, 'config');
    writeFileSync(file, [
      'apiVersion: v1',
      'kind: Config',
      'current-context: b',
      'clusters:',
      '- {name: one, cluster: {server: "https://one:6443"}}',
      `- {name: two, cluster: {server: "https://two:6443", certificate-authority-data: ${Buffer.from('CA').toString('base64')}}}`,
      'users:',
      '- {name: u, user: {token: abc, client-certificate: client.crt, client-key: client.key}}',
      'contexts:',
      '- {name: a, context: {cluster: one, user: u}}',
      '- {name: b, context: {cluster: two, user: u}}',
    ].join('\n'));
    const c = await loadCredentials(file, {});
    expect(c.server).toBe('https://two:6443');
    expect(c.ca?.toString()).toBe('CA');
    expect(c.cert?.toString()).toBe('CERT');
    expect(c.key?.toString()).toBe('KEY');
    expect(await c.headers()).toEqual({ authorization: 'Bearer abc' });
  });

  it('re-reads a token file on every call (rotation)', async () => {
    const file = join(dir, 'config2');
    writeFileSync(join(dir, 'token'), 't1\n');
    writeFileSync(file, 'current-context: x\nclusters: [{name: c, cluster: {server: "https://s"}}]\nusers: [{name: u, user: {tokenFile: token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n');
    const c = await loadCredentials(undefined, { KUBECONFIG: file });
    expect(await c.headers()).toEqual({ authorization: 'Bearer t1' });
    writeFileSync(join(dir, 'token'), 't2\n');
    expect(await c.headers()).toEqual({ authorization: 'Bearer t2' });
  });

  it('runs an exec credential plugin the way kubectl does (cloud IAM, OIDC login helpers)', async () => {
    const plugin = join(dir, 'credential-plugin.sh');
    writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}\'\n');
    chmodSync(plugin, 0o755);
    const file = join(dir, 'config3');
    writeFileSync(file, [
      'current-context: x',
      'clusters: [{name: c, cluster: {server: "https://s:6443", tls-server-name: api.internal}}]',
      `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never}}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
    ].join('\n'));
    const c = await loadCredentials(file, {});
    expect(c.servername).toBe('api.internal');
    expect(await c.headers()).toEqual({ authorization: 'Bearer from-plugin' });
  });
});
