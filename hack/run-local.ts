// `make run`: the whole system on this machine — control plane, CRDs, operator, sp-server,
// SimpleSAMLphp as the demo IdP, a DNS server with the demo domains' TXT records, the demo
// application, and the example organization from examples/. Prints where to log in; Ctrl-C
// stops everything.
import { DEMO_USERS, ORGANIZATION, startLocalSystem } from '../test/support/local-system.ts';

const started = Date.now();
const system = await startLocalSystem((line) => console.log(`… ${line}`));
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await system.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const testLink = (await system.kubectl(['get', 'ssoprofile', 'okta', '-n', ORGANIZATION, '-o', 'jsonpath={.status.test.url}'])).stdout;
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

  kubectl:   export KUBECONFIG=${system.kubeconfig} PATH=${process.env.GATEHOUSE_BIN ?? '$GATEHOUSE_BIN'}:$PATH
             kubectl get vd,mu,ssop -n ${ORGANIZATION}
  sp-server: ${system.spURL}  (/.well-known/openid-configuration; metrics: ${system.spServer.metricsURL})
  operator:  ${system.operator.healthURL}/readyz, ${system.operator.metricsURL}/metrics

Ctrl-C stops everything.`);
