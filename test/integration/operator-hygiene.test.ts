// The operator as a cluster component: probes, Prometheus metrics, JSON logs with object keys,
// clean shutdown on SIGTERM, and a refusal to start with a bad configuration.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KubeClient } from '../../kube/client.ts';
import { create, createNamespace, deleteNamespace, getDomain, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';
import { OperatorProcess } from '../support/operator-process.ts';

const kubeconfig = inject('kubeconfig');
const system = 'gh-hyg-system';
const org = 'gh-hyg-org';

describe('operator hygiene', () => {
  let client: KubeClient;
  let op: OperatorProcess;

  beforeAll(async () => {
    client = await testClient(kubeconfig);
    for (const ns of [system, org]) await createNamespace(client, ns);
    // No DNS server answers here: lookups fail, which is what the log assertion needs.
    op = await OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org], dnsServers: ['127.0.0.1:9'], args: ['--domain-recheck-interval=1h'] });
  });

  afterAll(async () => {
    await op?.stop();
    for (const ns of [system, org]) await deleteNamespace(client, ns);
    await client?.close();
  });

  it('serves /healthz, /readyz and Prometheus metrics with reconcile counts, durations, queue depth and API requests', async () => {
    expect((await fetch(`${op.healthURL}/healthz`)).status).toBe(200);
    expect((await fetch(`${op.healthURL}/readyz`)).status).toBe(200);
    await create(client, 'verifieddomains', org, { kind: 'VerifiedDomain', metadata: { name: 'x' }, spec: { domain: 'x.example' } });
    await waitFor('a reconcile', async () => (await getDomain(client, org, 'x')).status?.conditions);
    const text = await op.metrics();
    for (const name of [
      'gatehouse_operator_reconcile_total',
      'gatehouse_operator_reconcile_duration_seconds_bucket',
      'gatehouse_operator_workqueue_depth',
      'gatehouse_operator_api_requests_total',
      'gatehouse_operator_informer_healthy',
      'gatehouse_operator_process_resident_memory_bytes',
    ]) expect(text).toContain(name);
    expect(await op.metric('gatehouse_operator_reconcile_total', { kind: 'VerifiedDomain' })).toBeGreaterThan(0);
    expect(await op.metric('gatehouse_operator_api_requests_total', { verb: 'apply', code: '200' })).toBeGreaterThan(0);
  });

  it('logs pino JSON lines with the object keys', async () => {
    const line = await waitFor('a log line about the domain', async () =>
      op.logs().find((l) => l.kind === 'VerifiedDomain' && l.namespace === org && l.name === 'x'),
    );
    expect(line).toMatchObject({ component: 'gatehouse-operator', level: 30, domain: 'x.example', reason: 'LookupFailed' });
    expect(typeof line.time).toBe('number');
  });

  it('exits 0 on SIGTERM', async () => {
    const other = await OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org], args: ['--leader-elect', '--lease-name=hygiene'] });
    // Only a leader has a lease to hand back: stop it once it holds one.
    await waitFor('the second operator leads', async () => other.logs().some((l) => l.msg === 'became leader'));
    expect(await other.stop()).toBe(0);
    expect(other.logs().some((l) => l.msg === 'lease released')).toBe(true);
  });

  it('refuses to start with an invalid configuration and says why', async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'operator', 'main.ts'), '--namespace=x', '--sp-public-url=not a url'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // A start that hangs fails here with what the process printed, not at vitest's timeout with nothing.
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    clearTimeout(kill);
    expect(code, `stdout: ${out}\nstderr: ${err}`).toBe(2);
    expect(out).toContain('spPublicUrl');
  });
});
