// The whole of Gatehouse on one machine, the way `make run` shows it and the browser tests use
// it: a real control plane with the CRDs, a DNS server holding the demo domains' TXT records,
// the operator and the sp-server as processes, SimpleSAMLphp as the organization's IdP, the demo
// application (an OIDC client), the admin portal with an SMTP server for its email, and the
// example organization from examples/ — its Okta profile pointed at the local SimpleSAMLphp.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildDemoApp } from '../../demo/app.ts';
import { ControlPlane, freePort } from '../controlplane/controlplane.ts';
import { installCRDs, kubectl } from '../controlplane/kubectl.ts';
import { DnsServer } from './dns-server.ts';
import { waitFor } from './wait.ts';
import { OperatorProcess } from './operator-process.ts';
import { PortalProcess } from './portal-process.ts';
import { MailCatcher, type ReceivedMail } from './smtp-server.ts';
import { SimpleSamlPhp, type IdpUser } from './simplesamlphp.ts';
import { SpServerProcess } from './sp-server-process.ts';

const root = join(import.meta.dirname, '..', '..');
export const SYSTEM_NAMESPACE = 'gatehouse-system';
export const ORGANIZATION = 'acme';
export const DEMO_CLIENT_ID = 'acme-console';
export const PORTAL_CLIENT_ID = 'gatehouse-portal';
export const SETUP_LINKS_CONFIGMAP = 'gatehouse-portal-setup-links';

export interface DemoUser {
  email: string;
  /** Password at the IdP (SimpleSAMLphp); the username there is the email. */
  idpPassword: string;
  /** Password of the demo application's own login, used where SSO is not enforced. */
  appPassword: string;
  groups: string[];
}

/** The example organization's people (examples/20-managed-users.yaml) plus one stranger. */
export const DEMO_USERS: DemoUser[] = [
  { email: 'alice@acme.com', idpPassword: 'alice-idp', appPassword: 'alice-app', groups: ['Gatehouse-Admins'] },
  { email: 'Bob.Builder@acme.com', idpPassword: 'bob-idp', appPassword: 'bob-app', groups: ['Finance'] },
  { email: 'carol@acme.com', idpPassword: 'carol-idp', appPassword: 'carol-app', groups: [] },
  // Known to the IdP but not a ManagedUser of the organization.
  { email: 'mallory@acme.com', idpPassword: 'mallory-idp', appPassword: 'mallory-app', groups: [] },
  // A user of another organization, whom acme's IdP should never be able to sign in at acme.
  { email: 'eve@globex.com', idpPassword: 'eve-idp', appPassword: 'eve-app', groups: [] },
];

export interface LocalSystem {
  controlPlane: ControlPlane;
  kubeconfig: string;
  dns: DnsServer;
  operator: OperatorProcess;
  spServer: SpServerProcess;
  idp: SimpleSamlPhp;
  /** The admin portal (alice@acme.com holds the admin role) and the SMTP server it sends to. */
  portal: PortalProcess;
  smtp: MailCatcher;
  demoURL: string;
  spURL: string;
  /** A fresh single-use setup link for the organization, minted the documented kubectl way. */
  mintSetupLink(namespace: string): Promise<string>;
  /** The command a platform engineer runs for one (outside a cluster). */
  mintSetupLinkCommand(namespace: string): string;
  kubectl(args: string[], stdin?: string): ReturnType<typeof kubectl>;
  stop(): Promise<void>;
}

async function must(what: string, res: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await res;
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr || r.stdout}`);
  return r.stdout;
}


export interface LocalSystemOptions {
  /** Extra operator flags, e.g. the ones letting it reach a test OpenID Provider on loopback. */
  operatorArgs?: string[];
  /** The sp-server's status write interval (status.test, status.recentFailures). */
  statusIntervalMs?: number;
  /** More people at SimpleSAMLphp, e.g. of an organization a test creates. */
  extraIdpUsers?: IdpUser[];
  /** Called with each email the portal sends (make run prints them). */
  onMail?: (mail: ReceivedMail) => void;
  /** Extra portal flags, e.g. --allow-insecure-metadata-urls for SimpleSAMLphp's http:// metadata. */
  portalArgs?: string[];
}

export async function startLocalSystem(log: (line: string) => void = () => {}, options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const stack: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stack.reverse()) await fn().catch(() => {});
    stack.length = 0;
  };
  try {
    log('starting the control plane (etcd + kube-apiserver)');
    const controlPlane = await ControlPlane.start();
    stack.push(() => controlPlane.stop());
    const kc = controlPlane.kubeconfigPath;
    const k = (args: string[], stdin?: string) => kubectl(kc, args, stdin);

    await installCRDs(kc);
    await must('system namespace', k(['create', 'namespace', SYSTEM_NAMESPACE]));

    const dns = await DnsServer.start();
    stack.push(() => dns.stop());

    const spPort = await freePort();
    const spURL = `http://127.0.0.1:${spPort}`;
    const demoPort = await freePort();
    const demoURL = `http://127.0.0.1:${demoPort}`;

    log('starting SimpleSAMLphp (the organization\'s IdP)');
    const idp = await SimpleSamlPhp.start({
      users: [...DEMO_USERS.map<IdpUser>((u) => ({ username: u.email, password: u.idpPassword, email: u.email, groups: u.groups, displayName: u.email.split('@')[0] ?? u.email })), ...(options.extraIdpUsers ?? [])],
      serviceProviders: [{ entityID: `${spURL}/saml/${ORGANIZATION}/okta/metadata`, acsURL: `${spURL}/saml/${ORGANIZATION}/okta/acs` }],
    });
    stack.push(() => idp.stop());

    log('starting the operator');
    const operator = await OperatorProcess.start({ kubeconfig: kc, namespace: SYSTEM_NAMESPACE, spPublicUrl: spURL, dnsServers: [dns.address], ...(options.operatorArgs ? { args: options.operatorArgs } : {}) });
    stack.push(async () => void (await operator.stop()));

    log('applying the example organization from examples/');
    for (const file of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml')).sort()) {
      await must(`apply ${file}`, k(['apply', '--server-side', '-f', join(root, 'examples', file)]));
    }
    // The example's Okta profile, pointed at the local IdP: its real metadata document.
    const metadata = await (await fetch(idp.entityID)).text();
    await must(
      'point the okta profile at SimpleSAMLphp',
      k(['patch', 'ssoprofile', 'okta', '-n', ORGANIZATION, '--type=merge', '-p', JSON.stringify({ spec: { idp: { metadata: { xml: metadata } } } })]),
    );

    log('publishing the domains\' TXT records and waiting for verification');
    const records = new Map<string, string>();
    for (const name of ['acme-com', 'acme-co-uk']) {
      const record = await waitFor(`${name} verification token`, async () => {
        const out = await k(['get', 'verifieddomain', name, '-n', ORGANIZATION, '-o', 'jsonpath={.status.verification.recordName} {.status.verification.recordValue}']);
        const [recordName, value] = out.stdout.trim().split(' ');
        return recordName && value ? { recordName, value } : undefined;
      }, 60_000, () => `operator log:\n${operator.logText(30)}`);
      records.set(record.recordName, record.value);
    }
    for (const [name, value] of records) await dns.setTxt(name, [value]);
    await must('domains verified', k(['wait', '--for=condition=Verified', '--timeout=120s', 'verifieddomain', '--all', '-n', ORGANIZATION]));
    await must('okta profile ready', k(['wait', '--for=condition=IdPConfigValid', '--timeout=120s', 'ssoprofile/okta', '-n', ORGANIZATION]));

    log('starting the sp-server');
    const portalPort = await freePort();
    const portalURL = `http://127.0.0.1:${portalPort}`;
    const portalSecret = randomBytes(24).toString('base64url');
    const internalToken = randomBytes(24).toString('base64url');
    const spServer = await SpServerProcess.start({
      kubeconfig: kc,
      configNamespace: SYSTEM_NAMESPACE,
      port: spPort,
      publicURL: spURL,
      clients: [
        { client_id: DEMO_CLIENT_ID, redirect_uris: [`${demoURL}/callback`], idp_initiated_default: true, initiate_login_uri: `${demoURL}/initiate` },
        // The portal signs admins in through Gatehouse, as the chart registers it.
        { client_id: PORTAL_CLIENT_ID, redirect_uris: [`${portalURL}/signin/callback`], client_secret_sha256: createHash('sha256').update(portalSecret).digest('hex'), allowed_scopes: ['openid', 'email', 'profile', 'organization'] },
      ],
      internalToken,
      ...(options.statusIntervalMs !== undefined ? { statusIntervalMs: options.statusIntervalMs } : {}),
    });
    stack.push(() => spServer.stop());

    log('starting the admin portal and an SMTP server for its email');
    const smtp = await MailCatcher.start(options.onMail ? { announce: options.onMail } : {});
    stack.push(() => smtp.stop());
    await must('setup links ConfigMap', k(['create', 'configmap', SETUP_LINKS_CONFIGMAP, '-n', SYSTEM_NAMESPACE]));
    const portal = await PortalProcess.start({
      kubeconfig: kc,
      port: portalPort,
      gatehouseNamespace: SYSTEM_NAMESPACE,
      oidcIssuer: spURL,
      oidcClientID: PORTAL_CLIENT_ID,
      oidcClientSecret: portalSecret,
      smtpURL: smtp.url,
      activityURL: new URL(spServer.metricsURL).origin,
      internalToken,
      ...(options.portalArgs ? { extraArgs: options.portalArgs } : {}),
    });
    stack.push(() => portal.stop());
    const mintArgs = (namespace: string) => ['portal/setup-links/mint-link.ts', `--kubeconfig=${kc}`, `--public-url=${portalURL}`, `--gatehouse-namespace=${SYSTEM_NAMESPACE}`, `--namespace=${namespace}`];
    const mintSetupLink = async (namespace: string) => (await promisify(execFile)(process.execPath, mintArgs(namespace), { cwd: root })).stdout.trim();
    const mintSetupLinkCommand = (namespace: string) => `hack/env.sh node ${mintArgs(namespace).join(' ')}`;

    log('starting the demo application');
    const app: FastifyInstance = await buildDemoApp({
      issuer: spURL,
      clientId: DEMO_CLIENT_ID,
      port: demoPort,
      publicURL: demoURL,
      passwords: Object.fromEntries(DEMO_USERS.map((u) => [u.email, u.appPassword])),
    });
    await app.listen({ host: '127.0.0.1', port: demoPort });
    stack.push(() => app.close());

    return { controlPlane, kubeconfig: kc, dns, operator, spServer, idp, portal, smtp, demoURL, spURL, mintSetupLink, mintSetupLinkCommand, kubectl: k, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
