// The few pages a browser sees. They say what happened in words a user can act on and never
// show internals (no stack traces, no XML, no hints meant for administrators).
import { SAML_USER_MESSAGES, type SamlErrorCode } from './saml/errors.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .25rem}input,button{font:inherit;padding:.4rem}</style></head>` +
    `<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

export function errorPage(title: string, message: string, code?: string): string {
  return layout(title, `<p>${esc(message)}</p>${code ? `<p>Error code: <code>${esc(code)}</code></p>` : ''}`);
}

export function emailPage(params: Record<string, string>, error?: string): string {
  const hidden = Object.entries(params)
    .filter(([k]) => k !== 'login_hint')
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  return layout(
    'Sign in with your company account',
    `${error ? `<p role="alert">${esc(error)}</p>` : ''}<form method="get" action="authorize">${hidden}` +
      `<label for="email">Work email</label><br><input id="email" name="login_hint" type="email" autocomplete="username" required autofocus> ` +
      `<button type="submit">Continue</button></form>`,
  );
}

export function testResultPage(succeeded: boolean, message: string, code?: string): string {
  return layout(succeeded ? 'SSO test succeeded' : 'SSO test failed', `<p>${esc(message)}</p>${code ? `<p>Error code: <code>${esc(code)}</code></p>` : ''}<p>The result is recorded in the SSOProfile's status.</p>`);
}

/** What a user sees for each refusal: short, no internals, with a next step. */
export function userMessage(code: string): string {
  if (Object.hasOwn(SAML_USER_MESSAGES, code)) return SAML_USER_MESSAGES[code as SamlErrorCode];
  switch (code) {
    case 'USER_INACTIVE':
      return 'Your account is deactivated. Ask your administrator to restore access.';
    case 'USER_NOT_MANAGED':
    case 'USER_OTHER_ORGANIZATION':
    case 'DOMAIN_NOT_VERIFIED':
      return 'Your identity provider signed you in, but this account is not set up for single sign-on here. Ask your administrator.';
    case 'BROWSER_MISMATCH':
      return 'This sign-in was started in another browser. Please start again here.';
    default:
      return 'Your identity provider\'s sign-in response could not be accepted. Your administrator can see the details in the SSO connection\'s status.';
  }
}

/** What an administrator should change, for status.test.message. */
export function adminAdvice(code: string): string {
  const advice: Record<string, string> = {
    SIGNATURE_MISSING: 'Configure the IdP to sign the assertion (or the response).',
    SIGNATURE_INVALID: 'The signature does not verify: check that nothing rewrites the response between the IdP and Gatehouse.',
    UNTRUSTED_CERTIFICATE: 'Add the IdP\'s current signing certificate to spec.idp.certificates (keep the old one during rotation).',
    ALGORITHM_NOT_ALLOWED: 'Switch the IdP to RSA-SHA256, or list the algorithm in spec.signatureAlgorithms.',
    ISSUER_MISMATCH: 'Set spec.idp.entityID to the IdP\'s entity ID, or load the IdP metadata again.',
    AUDIENCE_MISMATCH: 'Set the IdP\'s Audience / SP Entity ID to status.sp.entityID.',
    DESTINATION_MISMATCH: 'Set the IdP\'s ACS / Reply URL to status.sp.acsURL.',
    RECIPIENT_MISMATCH: 'Set the IdP\'s ACS / Reply URL to status.sp.acsURL.',
    NOT_YET_VALID: 'Fix the IdP server\'s clock or raise spec.allowedClockSkew.',
    EXPIRED: 'Fix the IdP server\'s clock or raise spec.allowedClockSkew.',
    NAMEID_MISSING: 'Configure the IdP to send the user\'s email as NameID.',
    USER_NOT_MANAGED: 'Create a ManagedUser for this email, enable spec.provisioning.jit, or make the IdP send the email as NameID.',
    USER_OTHER_ORGANIZATION: 'The IdP sent an email that belongs to another organization: check the NameID mapping at the IdP.',
    DOMAIN_NOT_VERIFIED: 'Verify the email\'s domain (VerifiedDomain) and list it in spec.domains.',
    TEST_USER_MISMATCH: 'Sign in at the IdP as spec.test.email (sign out of other accounts first).',
    USER_INACTIVE: 'The ManagedUser has spec.active: false.',
    DECRYPTION_FAILED: 'Encrypt assertions for the SP certificate in the SP metadata (status.sp.metadataURL).',
    STATUS_NOT_SUCCESS: 'The IdP refused the login: check that the user is assigned to the application at the IdP.',
  };
  return advice[code] ?? 'Compare the IdP\'s settings with status.sp (entity ID, ACS URL) and the signing certificate.';
}
