// The floor under every SAML response validation: node:crypto verifying an RSA PKCS#1 v1.5
// SHA-256 signature over a SignedInfo-sized message with the IdP's own key, parsed once. A login
// needs two (response and assertion signed), so no validator can go faster than half this rate.
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { TestKeyPair } from '../test/support/saml-fixtures.ts';
import { fmt } from './results.ts';

export interface RsaFloor {
  modulusLength: number;
  /** Verifies per second of process CPU (user + system), median over the rounds. */
  verifiesPerCpuSecond: number;
  microsPerVerify: number;
  /** The two verifies of a response-and-assertion-signed login. */
  microsPerLogin: number;
  loginsPerCpuSecond: number;
  warmup: number;
  rounds: number;
  verifiesPerRound: number;
  roundRates: number[];
}

export interface RsaFloorOptions {
  warmup?: number;
  rounds?: number;
  verifiesPerRound?: number;
  /** Bytes signed: a canonical SignedInfo with one reference is about 600. */
  messageBytes?: number;
}

export function measureRsaFloor(keys: TestKeyPair, opts: RsaFloorOptions = {}): RsaFloor {
  const { warmup = 500, rounds = 5, verifiesPerRound = 2000, messageBytes = 600 } = opts;
  const publicKey = createPublicKey(keys.certificatePem);
  const modulusLength = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  const message = Buffer.alloc(messageBytes, '<ds:SignedInfo>');
  const signature = sign('sha256', message, createPrivateKey(keys.privateKeyPem));
  const once = (): void => {
    if (!verify('sha256', message, publicKey, signature)) throw new Error('RSA floor: the signature did not verify');
  };
  for (let i = 0; i < warmup; i++) once();
  const roundRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < verifiesPerRound; i++) once();
    const cpu = process.cpuUsage(c0);
    roundRates.push((verifiesPerRound * 1e6) / (cpu.user + cpu.system));
  }
  const verifiesPerCpuSecond = [...roundRates].sort((a, b) => a - b)[Math.floor(rounds / 2)] as number;
  const microsPerVerify = 1e6 / verifiesPerCpuSecond;
  return { modulusLength, verifiesPerCpuSecond, microsPerVerify, microsPerLogin: 2 * microsPerVerify, loginsPerCpuSecond: verifiesPerCpuSecond / 2, warmup, rounds, verifiesPerRound, roundRates };
}

export function describeRsaFloor(f: RsaFloor): string {
  return (
    `RSA-${f.modulusLength} verify (node:crypto, PKCS#1 v1.5 SHA-256, the fixture IdP's key parsed once): ` +
    `${fmt(f.verifiesPerCpuSecond)}/s of CPU = ${f.microsPerVerify.toFixed(1)} µs per verify; ` +
    `two per login = ${f.microsPerLogin.toFixed(1)} µs = ${fmt(f.loginsPerCpuSecond)} logins/s ` +
    `(warm-up ${f.warmup}, median of ${f.rounds} rounds of ${f.verifiesPerRound}: ${f.roundRates.map((x) => fmt(x)).join(', ')})`
  );
}
