// The few pages a browser sees. They say what happened in words a user can act on and never
// show internals (no stack traces, no XML, no hints meant for administrators).
import { REFUSALS, type RefusalCode } from './refusals.ts';

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

/** The user's page for a refused login: the table's message, and the code to quote to an administrator. */
export function refusalPage(code: RefusalCode, title = 'Sign-in failed'): string {
  return errorPage(title, REFUSALS[code].userMessage, code);
}
