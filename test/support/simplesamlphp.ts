// SimpleSAMLphp (Debian's package, 1.19) as a real SAML IdP on a loopback port: `php -S` on its
// www folder with a generated config (exampleauth:UserPass users, a fresh signing key, the SPs
// as saml20-sp-remote). `login` drives its login form the way a browser does.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../controlplane/controlplane.ts';
import { httpProbe, ManagedProcess } from './managed-process.ts';
import { browserGet, browserPostForm, type CookieJar } from './login-driver.ts';
import { makeKeyPair, type TestKeyPair } from './saml-fixtures.ts';

export const SIMPLESAMLPHP_DIR = process.env.SIMPLESAMLPHP_DIR ?? '/usr/share/simplesamlphp';

export interface IdpUser {
  username: string;
  password: string;
  email: string;
  groups?: string[];
  displayName?: string;
}

export interface RemoteSP {
  entityID: string;
  acsURL: string;
  /** The SP certificate (PEM): lets the IdP check signed AuthnRequests and encrypt assertions. */
  certificatePem?: string;
  /** Refuse AuthnRequests without a valid signature. */
  validateAuthnRequest?: boolean;
  /** Encrypt the assertion for the SP certificate (the response stays signed). */
  encryptAssertion?: boolean;
  /** xmlenc block algorithm for encrypted assertions (SimpleSAMLphp's sharedkey_algorithm). */
  sharedKeyAlgorithm?: string;
}

export interface PostedResponse {
  action: string;
  SAMLResponse: string;
  RelayState?: string;
}

const php = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const phpArray = (values: string[]) => `[${values.map(php).join(', ')}]`;

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function hiddenInputs(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
    const tag = m[0];
    const name = /\bname="([^"]*)"/i.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(tag)?.[1];
    if (name !== undefined && value !== undefined) out[decodeEntities(name)] = decodeEntities(value);
  }
  return out;
}

function pageText(html: string): string {
  return decodeEntities(html.replace(/<(script|style|head)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}

export class SimpleSamlPhp {
  readonly url: string;
  readonly entityID: string;
  readonly ssoURL: string;
  readonly keys: TestKeyPair;
  private readonly dir: string;
  private readonly server: ManagedProcess;
  private serviceProviders: RemoteSP[] = [];

  private constructor(url: string, dir: string, keys: TestKeyPair, server: ManagedProcess) {
    this.url = url;
    this.dir = dir;
    this.keys = keys;
    this.server = server;
    this.entityID = `${url}/saml2/idp/metadata.php`;
    this.ssoURL = `${url}/saml2/idp/SSOService.php`;
  }

  get certificatePem(): string {
    return this.keys.certificatePem;
  }
  get logs(): string {
    return this.server.output();
  }

  static async start(o: { users: IdpUser[]; serviceProviders?: RemoteSP[] }): Promise<SimpleSamlPhp> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ssp-'));
    for (const sub of ['config', 'metadata', 'cert', 'tmp', 'sessions', 'log']) mkdirSync(join(dir, sub));
    const keys = makeKeyPair(`simplesamlphp-${port}`);
    writeFileSync(join(dir, 'cert', 'idp.key'), keys.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'cert', 'idp.crt'), keys.certificatePem);
    writeFileSync(
      join(dir, 'config', 'config.php'),
      `<?php
$config = [
  'baseurlpath' => ${php(`${url}/`)},
  'certdir' => ${php(join(dir, 'cert'))},
  'loggingdir' => ${php(join(dir, 'log'))},
  'datadir' => ${php(join(dir, 'tmp'))},
  'tempdir' => ${php(join(dir, 'tmp'))},
  'metadatadir' => ${php(join(dir, 'metadata'))},
  'technicalcontact_name' => 'Gatehouse tests',
  'technicalcontact_email' => 'tests@gatehouse.invalid',
  'timezone' => 'UTC',
  'secretsalt' => ${php(randomBytes(16).toString('hex'))},
  'auth.adminpassword' => ${php(randomBytes(16).toString('hex'))},
  'admin.protectindexpage' => false,
  'admin.protectmetadata' => false,
  'showerrors' => true,
  'errorreporting' => false,
  'logging.level' => SimpleSAML\\Logger::WARNING,
  'logging.handler' => 'errorlog',
  'enable.saml20-idp' => true,
  'enable.shib13-idp' => false,
  'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
  'store.type' => 'phpsession',
  'session.phpsession.savepath' => ${php(join(dir, 'sessions'))},
  'session.cookie.secure' => false,
  'session.cookie.samesite' => null,
  'language.available' => ['en'],
  'language.default' => 'en',
  'trusted.url.domains' => ['127.0.0.1'],
  'metadata.sources' => [['type' => 'flatfile']],
];
`,
    );
    writeFileSync(
      join(dir, 'config', 'authsources.php'),
      `<?php
$config = [
  'admin' => ['core:AdminPassword'],
  'example-userpass' => [
    'exampleauth:UserPass',
${o.users
  .map(
    (u) =>
      `    ${php(`${u.username}:${u.password}`)} => ['uid' => [${php(u.username)}], 'email' => [${php(u.email)}], 'groups' => ${phpArray(u.groups ?? [])}, 'displayName' => [${php(u.displayName ?? u.username)}]],`,
  )
  .join('\n')}
  ],
];
`,
    );
    writeFileSync(
      join(dir, 'metadata', 'saml20-idp-hosted.php'),
      `<?php
$metadata[${php(`${url}/saml2/idp/metadata.php`)}] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'example-userpass',
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  'authproc' => [
    10 => ['class' => 'saml:AttributeNameID', 'attribute' => 'email', 'Format' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
  ],
];
`,
    );
    const server = ManagedProcess.spawn({
      name: 'SimpleSAMLphp (php -S)',
      command: 'php',
      args: ['-S', `127.0.0.1:${port}`, '-t', join(SIMPLESAMLPHP_DIR, 'www')],
      env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: join(dir, 'config') },
      outputLimitBytes: 200_000,
    });
    const idp = new SimpleSamlPhp(url, dir, keys, server);
    idp.setServiceProviders(o.serviceProviders ?? []);
    try {
      await server.waitReady(httpProbe(idp.entityID, (body) => body.includes('IDPSSODescriptor')), 20_000);
    } catch (err) {
      await idp.stop();
      throw err;
    }
    return idp;
  }

  /** Replaces the list of SPs the IdP answers (read again on every request). */
  setServiceProviders(sps: RemoteSP[]): void {
    this.serviceProviders = [...sps];
    writeFileSync(
      join(this.dir, 'metadata', 'saml20-sp-remote.php'),
      `<?php
${sps
  .map(
    (sp) => `$metadata[${php(sp.entityID)}] = [
  'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ${php(sp.acsURL)}]],
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  'saml20.sign.assertion' => true,
  'saml20.sign.response' => true,
  'validate.authnrequest' => ${sp.validateAuthnRequest ? 'true' : 'false'},
  'assertion.encryption' => ${sp.encryptAssertion ? 'true' : 'false'},${sp.certificatePem ? `\n  'certData' => ${php(sp.certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''))},` : ''}${sp.sharedKeyAlgorithm ? `\n  'sharedkey_algorithm' => ${php(sp.sharedKeyAlgorithm)},` : ''}
];`,
  )
  .join('\n')}
`,
    );
  }

  /** Adds one SP (or replaces the one with its entity ID), as an IdP admin registers a new app. */
  addServiceProvider(sp: RemoteSP): void {
    this.setServiceProviders([...this.serviceProviders.filter((s) => s.entityID !== sp.entityID), sp]);
  }

  /**
   * Follows the browser from an IdP URL (SP-initiated redirect, or the IdP-initiated endpoint)
   * through the login form to the auto-submitting form that posts the SAMLResponse.
   */
  async login(startURL: string, username: string, password: string, jar: CookieJar): Promise<PostedResponse> {
    let res = await browserGet(startURL, jar);
    let loginPosted = false;
    for (let hop = 0; hop < 12; hop++) {
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location') as string, res.url || startURL);
        if (next.origin !== this.url) throw new Error(`IdP redirected away to ${next}`);
        res = await browserGet(next, jar);
        continue;
      }
      const body = await res.text();
      if (res.status !== 200) throw new Error(`IdP answered ${res.status}: ${pageText(body).slice(0, 1500)}\n${this.server.output(1500)}`);
      const inputs = hiddenInputs(body);
      if (inputs.SAMLResponse) {
        const action = decodeEntities(/<form\b[^>]*\baction="([^"]*)"/i.exec(body)?.[1] ?? '');
        return { action, SAMLResponse: inputs.SAMLResponse, ...(inputs.RelayState ? { RelayState: inputs.RelayState } : {}) };
      }
      if (inputs.AuthState !== undefined && /name="password"/.test(body)) {
        if (loginPosted) throw new Error(`IdP refused the credentials of ${username}`);
        loginPosted = true;
        const action = decodeEntities(/<form\b[^>]*\baction="([^"]*)"/i.exec(body)?.[1] ?? '') || res.url;
        res = await browserPostForm(new URL(action, res.url), { ...inputs, username, password }, jar);
        continue;
      }
      throw new Error(`unexpected IdP page: ${pageText(body).slice(0, 1500)}\n${this.server.output(1500)}`);
    }
    throw new Error('too many hops at the IdP');
  }

  /** The IdP-initiated (unsolicited) login for an SP, as an IdP dashboard tile starts it. */
  idpInitiatedURL(spEntityID: string): string {
    return `${this.url}/saml2/idp/SSOService.php?spentityid=${encodeURIComponent(spEntityID)}`;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
