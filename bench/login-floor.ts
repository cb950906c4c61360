// The floors bench:login prints beside its figures, measured in the same run on the same machine:
// the cryptography a login cannot avoid (the ID token's signature, the IdP's two RSA signatures
// verified, the access token's ES256 signature), and the HTTP work of its three round trips
// against a bare node:http server (login-floor-server.ts) with the same client and sizes.
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../test/controlplane/controlplane.ts';
import { ManagedProcess, tcpProbe } from '../test/support/managed-process.ts';
import { cpuSeconds } from './proc-stats.ts';

export interface CryptoFloor {
  rs256SignMs: number;
  rsaVerifyMs: number;
  es256SignMs: number;
  /** The ID token (`idTokenAlg`), the response's and the assertion's RSA signatures verified, the ES256 access token. */
  perLoginMs: number;
}

/** CPU ms per call of `op`, after `warmup` calls, over `count` (this process, main thread idle otherwise). */
function cpuMsPerCall(op: () => unknown, count: number, warmup = Math.ceil(count / 5)): number {
  for (let i = 0; i < warmup; i++) op();
  const c0 = process.cpuUsage();
  for (let i = 0; i < count; i++) op();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / count;
}

/** node:crypto with KeyObjects, over inputs of a token's and a SignedInfo's size. */
export function cryptoFloor(idTokenAlg: 'RS256' | 'ES256', rsaCount = 300): CryptoFloor {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = Buffer.alloc(600, 'e');
  const signedInfo = Buffer.alloc(700, 's');
  const signature = sign('sha256', signedInfo, rsa.privateKey);
  const signWith = (key: KeyObject) => () => sign('sha256', token, key);
  const rs256SignMs = cpuMsPerCall(signWith(rsa.privateKey), rsaCount);
  const rsaVerifyMs = cpuMsPerCall(() => verify('sha256', signedInfo, rsa.publicKey, signature), rsaCount * 10);
  const es256SignMs = cpuMsPerCall(signWith(ec.privateKey), rsaCount * 10);
  const idToken = idTokenAlg === 'RS256' ? rs256SignMs : es256SignMs;
  return { rs256SignMs, rsaVerifyMs, es256SignMs, perLoginMs: idToken + 2 * rsaVerifyMs + es256SignMs };
}

export interface HttpFloorSizes {
  /** The IdP redirect's Location. */
  locationBytes: number;
  /** The ACS POST body (the form-encoded SAMLResponse). */
  acsBody: string;
  tokenJsonBytes: number;
}

export interface HttpFloorLevel {
  concurrency: number;
  serverCpuMsPerLogin: number;
  p50Ms: number;
  p99Ms: number;
}

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** `logins` × three round trips to a bare server at each concurrency: its CPU per login and the latency of the three. */
export async function httpFloor(sizes: HttpFloorSizes, levels: number[], logins: number): Promise<HttpFloorLevel[]> {
  const port = await freePort();
  const server = ManagedProcess.spawn({ name: 'http-floor', command: process.execPath, args: [join(import.meta.dirname, 'login-floor-server.ts'), String(port), String(sizes.locationBytes), String(sizes.tokenJsonBytes)] });
  const base = `http://127.0.0.1:${port}`;
  const query = new URLSearchParams({ client_id: 'console', redirect_uri: 'http://127.0.0.1:1/callback', response_type: 'code', scope: 'openid', state: 's1', nonce: 'n1', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', login_hint: 'user1@acme.test' });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const one = async (): Promise<number> => {
    const t = performance.now();
    await (await fetch(`${base}/authorize?${query}`, { redirect: 'manual' })).arrayBuffer();
    await (await fetch(`${base}/acs`, { method: 'POST', redirect: 'manual', headers: { ...form, cookie: `gh_browser=${'c'.repeat(43)}` }, body: sizes.acsBody })).arrayBuffer();
    await (await fetch(`${base}/token`, { method: 'POST', headers: form, body: `grant_type=authorization_code&code=${'c'.repeat(43)}&redirect_uri=x&client_id=console&code_verifier=${'v'.repeat(43)}` })).json();
    return performance.now() - t;
  };
  try {
    await server.waitReady(tcpProbe(port));
    const pid = server.pid as number;
    for (let i = 0; i < 300; i++) await one();
    const out: HttpFloorLevel[] = [];
    for (const concurrency of levels) {
      const latencies: number[] = [];
      let next = 0;
      const before = cpuSeconds(pid);
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next++ < logins) latencies.push(await one());
      }));
      out.push({ concurrency, serverCpuMsPerLogin: ((cpuSeconds(pid) - before) * 1000) / logins, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) });
    }
    return out;
  } finally {
    await server.stop();
  }
}
