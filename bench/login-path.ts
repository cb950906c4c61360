// p50/p99 latency of the full login path (/authorize → ACS → /token) against an sp-server
// process on loopback, at several concurrency levels, with memory state or Redis.
//   npm run bench:login [-- --logins 400 --concurrency 1,8,32 --redis]
// The client signs each SAML response after /authorize (it needs the request ID); that signing
// is not counted in the latencies, which are the sum of the three server round trips.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { freePort } from '../test/controlplane/controlplane.ts';
import { CookieJar, readAuthnRequest } from '../test/support/login-driver.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { buildResponse, testProfile } from '../test/support/saml-fixtures.ts';
import { SpServerProcess, testSigningKeyPems } from '../test/support/sp-server-process.ts';

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '1,8,32' },
    redis: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '50' },
  },
});

const REDIRECT = 'http://127.0.0.1:1/callback';
const b64url = (b: Buffer) => b.toString('base64url');

interface Sample {
  authorize: number;
  acs: number;
  token: number;
}

async function oneLogin(base: string, n: number): Promise<Sample> {
  const jar = new CookieJar();
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const q = new URLSearchParams({ client_id: 'console', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: `s${n}`, nonce: `n${n}`, code_challenge: challenge, code_challenge_method: 'S256', login_hint: `user${n % 100}@acme.test` });
  let t = performance.now();
  const a = await fetch(`${base}/authorize?${q}`, { redirect: 'manual' });
  jar.store(a);
  await a.arrayBuffer();
  const authorize = performance.now() - t;
  if (a.status !== 302) throw new Error(`authorize ${a.status}`);
  const { id } = readAuthnRequest(a.headers.get('location') as string);
  const acsURL = `${base}/saml/acme/okta/acs`;
  const saml = await buildResponse({ inResponseTo: id, destination: acsURL, recipient: acsURL, audience: `${base}/saml/acme/okta`, nameID: `user${n % 100}@acme.test` });
  t = performance.now();
  const r = await fetch(acsURL, { method: 'POST', redirect: 'manual', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ SAMLResponse: saml.base64 }).toString() });
  await r.arrayBuffer();
  const acs = performance.now() - t;
  if (r.status !== 303) throw new Error(`acs ${r.status}`);
  const code = new URL(r.headers.get('location') as string).searchParams.get('code') as string;
  t = performance.now();
  const tok = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'console', code_verifier: verifier }).toString() });
  const body = (await tok.json()) as { id_token?: string };
  const token = performance.now() - t;
  if (tok.status !== 200 || !body.id_token) throw new Error(`token ${tok.status}`);
  return { authorize, acs, token };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function run(base: string, total: number, concurrency: number): Promise<{ samples: Sample[]; seconds: number }> {
  const samples: Sample[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) samples.push(await oneLogin(base, next++));
    }),
  );
  return { samples, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const profile = testProfile({ sp: { ...testProfile().sp, entityID: `${base}/saml/acme/okta`, acsURL: `${base}/saml/acme/okta/acs`, metadataURL: `${base}/saml/acme/okta/metadata` } });
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ formatVersion: 1, organizations: [{ namespace: 'acme', verifiedDomains: ['acme.test'], profiles: [profile] }] }));
  const users = Array.from({ length: 100 }, (_, i) => ({ metadata: { name: `user${i}`, namespace: 'acme', uid: `uid-${i}` }, spec: { email: `user${i}@acme.test`, roles: ['member'] } }));
  const redis = values.redis ? await RedisServer.start() : undefined;
  const sp = await SpServerProcess.start({
    configFile,
    users,
    port,
    logLevel: 'warn',
    signingKeys: testSigningKeyPems(),
    clients: [{ client_id: 'console', redirect_uris: [REDIRECT] }],
    ...(redis ? { redisURL: redis.url } : {}),
  });
  try {
    await run(base, Number(values.warmup), 4);
    console.log(`login path /authorize → ACS → /token, state: ${redis ? 'Redis' : 'memory'}, Node ${process.version}, sp-server and client share this machine`);
    console.log('concurrency  logins  logins/s   p50 ms   p99 ms   (authorize p50/p99 | acs p50/p99 | token p50/p99)');
    for (const c of values.concurrency.split(',').map(Number)) {
      const { samples, seconds } = await run(base, Number(values.logins), c);
      const total = samples.map((s) => s.authorize + s.acs + s.token);
      const f = (xs: number[]) => `${pct(xs, 50).toFixed(2)}/${pct(xs, 99).toFixed(2)}`;
      console.log(
        `${String(c).padStart(11)}  ${String(samples.length).padStart(6)}  ${(samples.length / seconds).toFixed(1).padStart(8)}  ${pct(total, 50).toFixed(2).padStart(7)}  ${pct(total, 99).toFixed(2).padStart(7)}   (${f(samples.map((s) => s.authorize))} | ${f(samples.map((s) => s.acs))} | ${f(samples.map((s) => s.token))})`,
      );
    }
  } finally {
    await sp.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
