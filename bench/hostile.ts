// Does one organization's hostile traffic slow down another's logins? An sp-server process serves
// two organizations; the bench measures, side by side in one run, /healthz and a full login
// (/authorize → ACS with a signed response → /token) of organization 2, and the server's worst
// event-loop delay (nodejs_eventloop_lag_max_seconds from its /metrics), first unloaded, then
// while hostile inputs at the largest size each surface accepts flood organization 1's ACS, its
// /authorize and (with a control plane) its SCIM endpoint — sent from a worker thread
// (hostile-load.ts), so the probes' event loop is not the load generator's.
//   npm run bench:hostile [-- --seconds 20 --warmup 5 --acs 4 --authorize 2 --scim 1 --no-scim --limited]
// --acs/--authorize/--scim give each flood's concurrency (0 leaves it out, to see one surface's effect);
// --no-scim also skips the control plane that SCIM needs.
// HOSTILE_SP_FLAGS adds sp-server flags (space-separated; `{metricsPort}` in them is replaced by
// the metrics listener's port). The limits are lifted (the test processes' default), so the bench
// measures the unthrottled worst case; HOSTILE_SP_FLAGS='--rate-limits={}' runs it under the
// production defaults. --limited runs it as production would see it behind an ingress: the
// server trusts the loopback proxy's X-Forwarded-For, the attacker has six addresses (four for
// the ACS, two for /authorize) and organization 2's probe logins come from 250 browsers' addresses;
// the per-address and SCIM limits are the production defaults, while the per-organization limits
// are lifted so that the probe's own rate (far above a real organization's) is not what is limited.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RenderedOrganization } from '../crds/api/index.ts';
import { ControlPlane, freePort } from '../test/controlplane/controlplane.ts';
import { kubectl } from '../test/controlplane/kubectl.ts';
import { applyManagedUser, createNamespace, testClient } from '../test/support/kube.ts';
import { CookieJar, readAuthnRequest } from '../test/support/login-driver.ts';
import { buildResponse, testProfile } from '../test/support/saml-fixtures.ts';
import { SpServerProcess, testSigningKeyPems } from '../test/support/sp-server-process.ts';
import { acsCorpus, scimFilter, scimPatchBody, type HostileInput } from './hostile-corpus.ts';
import { runHostileLoad, type HostileLoad } from './hostile-load.ts';
import { startResults } from './results.ts';
import { fillCompileCacheLikeTheImage } from './compile-cache.ts';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    acs: { type: 'string', default: '4' },
    authorize: { type: 'string', default: '2' },
    scim: { type: 'string', default: '1' },
    'no-scim': { type: 'boolean', default: false },
    'scim-values': { type: 'string', default: '3000' },
    limited: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(opt.seconds);
const WITH_SCIM = !opt['no-scim'] && Number(opt.scim) > 0;
const REDIRECT = 'http://127.0.0.1:1/callback';
const SCIM_TOKEN = `hostile-${randomBytes(12).toString('hex')}`;
const root = join(import.meta.dirname, '..');
const LIMITED = opt.limited;
/** Who the request comes from, as the trusted proxy says (only with --limited). */
const from = (address: string): Record<string, string> => (LIMITED ? { 'x-forwarded-for': address } : {});
const probeAddress = (n: number): string => `198.51.100.${1 + (n % 250)}`;
const LIFTED = 1_000_000;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const b64url = (b: Buffer): string => b.toString('base64url');

function organization(base: string, namespace: string, domain: string): RenderedOrganization {
  const sp = { ...testProfile().sp, entityID: `${base}/saml/${namespace}/okta`, acsURL: `${base}/saml/${namespace}/okta/acs`, metadataURL: `${base}/saml/${namespace}/okta/metadata` };
  return { namespace, verifiedDomains: [domain], profiles: [testProfile({ sp, domains: [domain] })] };
}

/** One login of organization 2; the client's signing of the response is not counted. */
async function login(base: string, n: number): Promise<number> {
  const jar = new CookieJar();
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const email = `user${n % 20}@globex.test`;
  const q = new URLSearchParams({ client_id: 'console', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: `s${n}`, code_challenge: challenge, code_challenge_method: 'S256', login_hint: email });
  let t = performance.now();
  const a = await fetch(`${base}/authorize?${q}`, { redirect: 'manual', headers: from(probeAddress(n)) });
  jar.store(a);
  await a.arrayBuffer();
  let elapsed = performance.now() - t;
  if (a.status !== 302) throw new Error(`authorize answered ${a.status}`);
  const acsURL = `${base}/saml/globex/okta/acs`;
  const saml = await buildResponse({ inResponseTo: readAuthnRequest(a.headers.get('location') as string).id, destination: acsURL, recipient: acsURL, audience: `${base}/saml/globex/okta`, nameID: email });
  t = performance.now();
  const r = await fetch(acsURL, { method: 'POST', redirect: 'manual', headers: { ...from(probeAddress(n)), cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ SAMLResponse: saml.base64 }).toString() });
  await r.arrayBuffer();
  if (r.status !== 303) throw new Error(`the ACS answered ${r.status}`);
  const code = new URL(r.headers.get('location') as string).searchParams.get('code') as string;
  const tok = await fetch(`${base}/token`, { method: 'POST', headers: { ...from(probeAddress(n)), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'console', code_verifier: verifier }).toString() });
  await tok.arrayBuffer();
  elapsed += performance.now() - t;
  if (tok.status !== 200) throw new Error(`token answered ${tok.status}`);
  return elapsed;
}

async function timedFetch(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - t;
}

interface PhaseResult {
  healthz: number[];
  logins: number[];
  loopLagMaxMs: number;
  hostile: Map<string, number>;
}

/** One unlabelled series of the server's /metrics. */
async function metricValue(metricsURL: string, name: string): Promise<number> {
  const text = await (await fetch(metricsURL)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${metricsURL} serves no ${name}`);
  return Number(line.split(' ').pop());
}
const eventLoopLagMaxMs = async (metricsURL: string): Promise<number> => (await metricValue(metricsURL, 'nodejs_eventloop_lag_max_seconds')) * 1000;

async function phase(base: string, metricsURL: string, seconds: number, hostile: ((seconds: number, counts: Map<string, number>) => Promise<void>) | undefined): Promise<PhaseResult> {
  await eventLoopLagMaxMs(metricsURL); // prom-client resets the maximum at every scrape
  const end = performance.now() + seconds * 1000;
  const over = () => performance.now() >= end;
  const result: PhaseResult = { healthz: [], logins: [], loopLagMaxMs: 0, hostile: new Map() };
  const sampleLag = async () => {
    while (!over()) {
      await new Promise((r) => setTimeout(r, 1000));
      result.loopLagMaxMs = Math.max(result.loopLagMaxMs, await eventLoopLagMaxMs(metricsURL));
    }
  };
  let n = 0;
  await Promise.all([
    sampleLag(),
    (async () => {
      while (!over()) {
        result.healthz.push(await timedFetch(`${base}/healthz`));
        await new Promise((r) => setTimeout(r, 20));
      }
    })(),
    (async () => {
      while (!over()) result.logins.push(await login(base, n++));
    })(),
    hostile?.(seconds, result.hostile),
  ]);
  result.loopLagMaxMs = Math.max(result.loopLagMaxMs, await eventLoopLagMaxMs(metricsURL));
  return result;
}

async function main(): Promise<void> {
  const results = startResults('hostile', 'bench:hostile');
  const asInTheImage = fillCompileCacheLikeTheImage();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-hostile-'));
  const port = await freePort();
  const metricsPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const extraArgs = (process.env.HOSTILE_SP_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  const metricsURL = `http://127.0.0.1:${metricsPort}/metrics`;
  const acme = organization(base, 'acme', 'acme.test');
  if (WITH_SCIM) acme.scim = { tokenSHA256: [createHash('sha256').update(SCIM_TOKEN).digest('hex')] };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ formatVersion: 1, organizations: [acme, organization(base, 'globex', 'globex.test')] }));
  const globexUsers = Array.from({ length: 20 }, (_, i) => ({ name: `user${i}`, email: `user${i}@globex.test` }));

  let cp: ControlPlane | undefined;
  let sp: SpServerProcess | undefined;
  try {
    if (WITH_SCIM) {
      cp = await ControlPlane.start();
      for (const f of readdirSync(join(root, 'crds', 'bases')).filter((x) => x.endsWith('.yaml'))) {
        const r = await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '-f', join(root, 'crds', 'bases', f)]);
        if (r.code !== 0) throw new Error(r.stderr);
      }
      await kubectl(cp.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
      const k = await testClient(cp.kubeconfigPath);
      for (const ns of ['acme', 'globex']) await createNamespace(k, ns);
      for (const u of globexUsers) await applyManagedUser(k, 'globex', u);
      await k.close();
    }
    sp = await SpServerProcess.start({
      configFile,
      port,
      logLevel: 'error',
      signingKeys: testSigningKeyPems(),
      clients: [{ client_id: 'console', redirect_uris: [REDIRECT] }],
      metricsPort,
      ...(LIMITED ? { trustedProxies: '127.0.0.1/32', rateLimits: { authorize: { perOrganization: LIFTED }, acs: { perOrganization: LIFTED }, token: { perOrganization: LIFTED } } } : {}),
      extraArgs: extraArgs.map((f) => f.replaceAll('{metricsPort}', String(metricsPort))),
      ...(cp ? { kubeconfig: cp.kubeconfigPath, scim: true } : { users: globexUsers.map((u, i) => ({ metadata: { name: u.name, namespace: 'globex', uid: `uid-${i}` }, spec: { email: u.email, roles: ['member'] } })) }),
    });
    // Users appear through the server's watch: wait until a login of organization 2 goes through.
    for (let i = 0; ; i++) {
      try {
        await login(base, 0);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    const corpus: HostileInput[] = await acsCorpus(acme.profiles[0]!.sp.acsURL, acme.profiles[0]!.sp.entityID);
    let scimUserPath: string | undefined;
    if (cp) {
      const created = await fetch(`${base}/scim/v2/acme/Users`, { method: 'POST', headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'target@acme.test', emails: [{ value: 'target@acme.test', type: 'work', primary: true }] }) });
      if (created.status !== 201) throw new Error(`SCIM create answered ${created.status}: ${await created.text()}`);
      scimUserPath = `${base}/scim/v2/acme/Users/${((await created.json()) as { id: string }).id}`;
    }
    const patchBody = scimPatchBody(Number(opt['scim-values']));
    const filterURL = `${base}/scim/v2/acme/Users?${new URLSearchParams({ filter: scimFilter() })}`;

    const hostile = async (seconds: number, counts: Map<string, number>): Promise<void> => {
      const load: HostileLoad = {
        base,
        acsURL: acme.profiles[0]!.sp.acsURL,
        corpus,
        seconds,
        acsLoops: Number(opt.acs),
        authorizeLoops: Number(opt.authorize),
        redirectURI: REDIRECT,
        forwardedFor: LIMITED,
        ...(scimUserPath === undefined ? {} : { scim: { userPath: scimUserPath, filterURL, token: SCIM_TOKEN, patchBody, patchValues: Number(opt['scim-values']), loops: Number(opt.scim) } }),
      };
      for (const [k, v] of await runHostileLoad(load)) counts.set(k, v);
    };

    console.log(`hostile-traffic bench: sp-server process on loopback (${cp ? 'SCIM against a local kube-apiserver' : 'no SCIM'}), Node ${process.version}; client, load and server share this machine`);
    console.log(LIMITED ? 'limits: production defaults per address and per SCIM token, behind a trusted proxy; per-organization limits lifted' : 'limits: lifted (the unthrottled worst case)');
    console.log(`extra sp-server flags: ${extraArgs.join(' ') || '(none)'}; metrics from ${metricsURL.replace(String(metricsPort), '{metricsPort}')}`);
    console.log(`warm-up ${opt.warmup} s unloaded, then ${SECONDS} s unloaded and ${SECONDS} s loaded; probes: /healthz every 20 ms and organization 2's logins, one at a time each`);
    console.log(`load on organization 1: ${opt.acs} ACS loops over ${corpus.length} inputs, ${opt.authorize} /authorize loops${scimUserPath ? `, ${opt.scim} SCIM loop (PATCH ${opt['scim-values']} values / 4 KB filter)` : ''}`);
    // Each input alone, unloaded: what one request of it costs the server (median of 3, and the
    // server's CPU time per request, which a busy machine does not inflate as it does wall time).
    for (const input of corpus) {
      const times: number[] = [];
      let status = 0;
      const cpu0 = await metricValue(metricsURL, 'process_cpu_seconds_total');
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        const res = await fetch(acme.profiles[0]!.sp.acsURL, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: input.body });
        await res.arrayBuffer();
        times.push(performance.now() - t);
        status = res.status;
      }
      const cpuMs = ((await metricValue(metricsURL, 'process_cpu_seconds_total')) - cpu0) * 1000 / 3;
      console.log(`  ${input.name}: ${(input.body.length / 1024).toFixed(0)} KiB form body, answered ${status} in ${pct(times, 50).toFixed(1)} ms alone, ${cpuMs.toFixed(0)} ms of server CPU`);
    }
    await phase(base, metricsURL, Number(opt.warmup), undefined);
    const unloaded = await phase(base, metricsURL, SECONDS, undefined);
    const loaded = await phase(base, metricsURL, SECONDS, hostile);

    const row = (what: string, a: number, b: number, goal: string) =>
      console.log(`${what.padEnd(34)} ${a.toFixed(1).padStart(10)} ${b.toFixed(1).padStart(10)} ${(b / a).toFixed(2).padStart(8)}×   ${goal}`);
    console.log(`\n${''.padEnd(34)} ${'unloaded'.padStart(10)} ${'loaded'.padStart(10)} ${'ratio'.padStart(9)}`);
    console.log(`${'samples /healthz | logins'.padEnd(34)} ${`${unloaded.healthz.length} | ${unloaded.logins.length}`.padStart(10)} ${`${loaded.healthz.length} | ${loaded.logins.length}`.padStart(10)}`);
    row('/healthz p99 ms', pct(unloaded.healthz, 99), pct(loaded.healthz, 99), '');
    row('organization 2 login p50 ms', pct(unloaded.logins, 50), pct(loaded.logins, 50), '');
    row('organization 2 login p99 ms', pct(unloaded.logins, 99), pct(loaded.logins, 99), 'goal ≤ 2×');
    row('server event-loop delay max ms', unloaded.loopLagMaxMs, loaded.loopLagMaxMs, 'goal ≤ 50 ms loaded');
    console.log('\nhostile requests answered in the loaded phase:');
    for (const [k, v] of [...loaded.hostile].sort()) console.log(`  ${String(v).padStart(6)}  ${k}`);
    const [p99Before, p99During] = [pct(unloaded.logins, 99), pct(loaded.logins, 99)];
    const saved = results.save(`warm-up ${opt.warmup} s, then ${SECONDS} s unloaded and ${SECONDS} s loaded (${unloaded.logins.length} and ${loaded.logins.length} logins of organization 2); ${LIMITED ? 'production limits behind a trusted proxy' : 'limits lifted'}; server, probes, flood and API server on the same cores; ${asInTheImage}`, [
      {
        path: 'another organization\'s login while one is flooded with hostile inputs',
        figure: `login p99 ${p99During.toFixed(1)} ms loaded`,
        floor: `the same probe unloaded: p99 ${p99Before.toFixed(1)} ms`,
        ratio: `${(p99During / p99Before).toFixed(2)}× unloaded`,
        goal: '≤ 2×',
        met: p99During <= 2 * p99Before,
      },
      {
        path: 'sp-server event-loop delay under that flood',
        figure: `worst ${loaded.loopLagMaxMs.toFixed(0)} ms loaded`,
        floor: `unloaded: worst ${unloaded.loopLagMaxMs.toFixed(0)} ms`,
        ratio: `${(loaded.loopLagMaxMs / unloaded.loopLagMaxMs).toFixed(2)}× unloaded`,
        goal: '≤ 50 ms',
        met: loaded.loopLagMaxMs <= 50,
      },
    ]);
    console.log(`results: ${saved}`);
  } finally {
    await sp?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
