// The few pages a browser sees, in Gatehouse's shared look (ui/): they say what happened in words
// a user can act on, name the organization when it is known, lead back to the application, and
// never show internals (no stack traces, no XML, no hints meant for administrators).
import { html, type HtmlValue } from '../ui/html.ts';
import { page } from '../ui/layout.ts';
import { REFUSALS, type RefusalCode } from './refusals.ts';

/** What frames an end-user page: whose sign-in it is and where the application is. */
export interface PageFrame {
  /** The organization's display name (or namespace). */
  organization?: string | undefined;
  /** Back to the application (page-frame.ts decides it; only ever a registered client's URL). */
  backURL?: string | undefined;
}

function endUserPage(title: string, body: HtmlValue, frame: PageFrame = {}): string {
  return page({ title, body, narrow: true, organization: frame.organization, backURL: frame.backURL }).value;
}

const codeLine = (code: string | undefined) => (code ? html`<p class="hint">Error code: <code>${code}</code></p>` : '');

export function errorPage(title: string, message: string, code?: string, frame?: PageFrame): string {
  return endUserPage(title, html`<div class="notice error" role="alert"><p>${message}</p></div>${codeLine(code)}`, frame);
}

export function emailPage(params: Record<string, string>, error?: string, frame?: PageFrame): string {
  const hidden = Object.entries(params)
    .filter(([k]) => k !== 'login_hint')
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  const invalid = error ? html` aria-invalid="true" aria-describedby="email-error"` : '';
  return endUserPage(
    'Sign in with your company account',
    html`<p class="lead">Enter your work email; we take you to your company's sign-in page.</p>
<form method="get" action="authorize">${hidden}
<div class="field"><label for="email">Work email</label>
<input id="email" name="login_hint" type="email" autocomplete="username" required autofocus${invalid}>
${error ? html`<span class="field-error" id="email-error" role="alert">${error}</span>` : ''}</div>
<p class="actions"><button type="submit">Continue</button></p></form>`,
    frame,
  );
}

export function testResultPage(succeeded: boolean, message: string, code?: string, frame?: PageFrame): string {
  return endUserPage(
    succeeded ? 'SSO test succeeded' : 'SSO test failed',
    html`<div class="notice ${succeeded ? 'ok' : 'error'}" role="status"><p>${message}</p></div>${codeLine(code)}<p>You can close this page: the result is recorded for your administrators.</p>`,
    frame,
  );
}

/** The user's page for a refused login: the table's message, and the code to quote to an administrator. */
export function refusalPage(code: RefusalCode, title = 'Sign-in failed', frame?: PageFrame): string {
  return errorPage(title, REFUSALS[code].userMessage, code, frame);
}
