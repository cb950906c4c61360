// The page frame shared by the sp-server's end-user pages and the admin portal: one stylesheet
// and one script from the page's own origin (the CSP allows nothing inline), the organization's
// name when known, and a way back to the application.
import { html, type HtmlValue, type SafeHtml } from './html.ts';
import { ASSET_PATHS } from './assets.ts';

export interface NavItem {
  href: string;
  label: string;
  current?: boolean;
}

export interface PageOptions {
  title: string;
  body: HtmlValue;
  /** The organization's display name (or namespace), shown in the header. */
  organization?: string | undefined;
  /** Where "Back to the application" leads; left out when unknown. */
  backURL?: string | undefined;
  backLabel?: string | undefined;
  /** Sections of the portal; end-user pages have none. */
  nav?: readonly NavItem[] | undefined;
  /** Who is signed in (portal). */
  signedInAs?: HtmlValue;
  /** A narrow, centred page (sign-in and end-user pages). */
  narrow?: boolean | undefined;
  /** Prefix under which the assets are served (the sp-server serves them at its root). */
  assetPrefix?: string | undefined;
  /** Product name in the header. */
  product?: string | undefined;
}

export function page(o: PageOptions): SafeHtml {
  const prefix = o.assetPrefix ?? '';
  const nav = o.nav?.length
    ? html`<nav class="sections" aria-label="Sections"><ul>${o.nav.map((n) => html`<li><a href="${n.href}"${n.current ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${o.title}${o.organization ? ` · ${o.organization}` : ''}</title>
<link rel="stylesheet" href="${prefix}${ASSET_PATHS.css}">
<script src="${prefix}${ASSET_PATHS.js}" defer></script>
</head><body>
<header class="site"><span class="brand">${o.product ?? 'Gatehouse'}</span>${o.organization ? html`<span class="org">${o.organization}</span>` : ''}${o.signedInAs ? html`<span class="who">${o.signedInAs}</span>` : ''}</header>
${nav}
<main class="${o.narrow ? 'narrow' : ''}"><h1>${o.title}</h1>
${o.body}
${o.backURL ? html`<p class="actions"><a class="button secondary" href="${o.backURL}">${o.backLabel ?? 'Back to the application'}</a></p>` : ''}
</main>
</body></html>`;
}
