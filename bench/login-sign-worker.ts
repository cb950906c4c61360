// bench:login's client side: the SAML response of each login, rendered from a signed template
// (login-response-template.ts) on a worker thread, so that work (two RSA signatures, ≈ 2 ms) never
// holds the client's event loop while other logins' round trips are being timed. The template is
// built again every minute, well inside the validator's issue-age and NotOnOrAfter windows.
import type { ResponseOptions, TestKeyPair } from '../test/support/saml-fixtures.ts';
import { ResponseTemplate, type LoginValues } from './login-response-template.ts';

export interface SignTask {
  signer: TestKeyPair;
  /** The same for every login of a run (destination, audience, attributes…). */
  response: Omit<ResponseOptions, 'signer' | 'signResponse' | 'signAssertion' | keyof LoginValues>;
  values: LoginValues;
}

const TEMPLATE_LIFETIME_MS = 60_000;
let template: { built: number; template: Promise<ResponseTemplate> } | undefined;

export default async function signResponse(task: SignTask): Promise<string> {
  if (template === undefined || Date.now() - template.built > TEMPLATE_LIFETIME_MS) {
    template = { built: Date.now(), template: ResponseTemplate.build(task.signer, task.response) };
  }
  return (await template.template).render(task.values);
}
