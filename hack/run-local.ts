// `make run`: the whole system on this machine — control plane, CRDs, operator, sp-server,
// SimpleSAMLphp as the demo IdP, a DNS server with the demo domains' TXT records, the demo
// application, the example organization from examples/, and an organization signing in through
// three local OpenID Providers (Google-shaped, Entra-shaped, generic), and the admin portal with a
// local SMTP server whose email is printed here. Prints where to log in; Ctrl-C stops everything.
import { DEMO_USERS, ORGANIZATION, startLocalSystem } from '../test/support/local-system.ts';
import { OIDC_ORGANIZATION, OIDC_PEOPLE, startOIDCOrganization } from '../test/support/oidc-organization.ts';

const started = Date.now();
const system = await startLocalSystem((line) => console.log(`… ${line}`), {
  // The demo's OpenID Providers listen on plain http:// on loopback, which production refuses
  // (the sp-server process of the local system allows loopback providers by default).
  operatorArgs: ['--allow-private-metadata-urls=true', '--allow-insecure-metadata-urls=true'],
  // …and the portal, so a connection can be created from SimpleSAMLphp's metadata URL.
  portalArgs: ['--allow-insecure-metadata-urls'],
  // What the portal emails (test links) lands in the local SMTP server: show it here.
  onMail: (mail) => console.log(`\n… email to ${mail.to.join(', ')}: ${mail.subject}\n${mail.text.trim().replace(/^/gm, '    ')}\n`),
});
console.log(`… starting the OpenID Providers and the organization ${OIDC_ORGANIZATION}`);
const oidcOrganization = await startOIDCOrganization(system).catch(async (err: unknown) => {
  await system.stop();
  throw err;
});
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await oidcOrganization.close();
  await system.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const testLink = (await system.kubectl(['get', 'ssoprofile', 'okta', '-n', ORGANIZATION, '-o', 'jsonpath={.status.test.url}'])).stdout;
const oidcTestLink = (await system.kubectl(['get', 'ssoprofile', 'google', '-n', OIDC_ORGANIZATION, '-o', 'jsonpath={.status.test.url}'])).stdout;
const setupLink = await system.mintSetupLink(ORGANIZATION).catch((err: unknown) => `(minting failed: ${err instanceof Error ? err.message : String(err)})`);
const users = DEMO_USERS.map((u) => `    ${u.email.padEnd(24)} IdP password ${u.idpPassword.padEnd(12)} app password ${u.appPassword}`).join('\n');
console.log(`
Gatehouse is running (${((Date.now() - started) / 1000).toFixed(0)} s)

  Open the demo application:  ${system.demoURL}

  Demo users (SimpleSAMLphp at ${system.idp.url}; the username is the email):
${users}
    mallory@acme.com is known to the IdP but not yet a ManagedUser: the Okta profile's JIT
    provisioning creates her on her first SSO login. eve@globex.com belongs to no organization here
    (or another one): acme's IdP cannot sign her in at acme.

  Test the Okta profile's connection (as alice@acme.com): ${testLink || '(see kubectl get ssoprofile okta -o yaml)'}

  Admin portal: ${system.portal.url}
    Setup link for ${ORGANIZATION} (single use, 24 h): ${setupLink}
    Another one:  ${system.mintSetupLinkCommand(ORGANIZATION)}
      (in a cluster: kubectl -n <release namespace> exec deploy/<release>-portal -- node portal/setup-links/mint-link.ts --namespace ${ORGANIZATION})
    Or sign in with single sign-on as alice@acme.com (role admin) at ${system.portal.url}/signin.
    The portal's email (test links) is printed here; SMTP server ${system.smtp.url}.

  OpenID Connect: the organization ${OIDC_ORGANIZATION} signs in through a Google-shaped provider
  (${oidcOrganization.google.issuer}), an Entra-shaped one (${oidcOrganization.entra.issuer})
  and a generic one (${oidcOrganization.generic.issuer}, private_key_jwt); their sign-in form asks
  only for the email. At the demo application enter
    ${OIDC_PEOPLE.ann.padEnd(24)} Google Workspace, choose single sign-on
    ${OIDC_PEOPLE.eva.padEnd(24)} Entra ID, with the Finance group (role billing:read)
    ${OIDC_PEOPLE.gil.padEnd(24)} the generic provider
  and see refusals with ${OIDC_PEOPLE.pat} (no hd: a personal Google account), ${OIDC_PEOPLE.una}
  (email not verified) and ${OIDC_PEOPLE.tom} (another Entra tenant).
  Test the google profile's connection (as ${OIDC_PEOPLE.ann}): ${oidcTestLink || `(see kubectl get ssoprofile google -n ${OIDC_ORGANIZATION} -o yaml)`}

  kubectl:   export KUBECONFIG=${system.kubeconfig} PATH=${process.env.GATEHOUSE_BIN ?? '$GATEHOUSE_BIN'}:$PATH
             kubectl get vd,mu,ssop -n ${ORGANIZATION}   (and -n ${OIDC_ORGANIZATION})
  sp-server: ${system.spURL}  (/.well-known/openid-configuration; metrics: ${system.spServer.metricsURL})
  operator:  ${system.operator.healthURL}/readyz, ${system.operator.metricsURL}/metrics

Ctrl-C stops everything.`);
