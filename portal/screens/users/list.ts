// The users screen: the organization's managed users with their roles and SSO decision, searched
// by email or name and shown 50 to a page.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ManagedUser } from '../../../crds/api/index.ts';
import { html } from '../../../ui/html.ts';
import type { RouteOptions } from '../../context.ts';
import { portalOf } from '../../session/request-session.ts';
import { renderScreen, sendHTML } from '../../views/frame.ts';
import { inputField } from '../../views/forms.ts';
import { badge } from '../../views/status.ts';
import { decisionText } from './decision.ts';

export const USERS_PER_PAGE = 50;

const listQuery = z.object({
  q: z.string().max(320).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).optional().catch(undefined),
});

/** Case-insensitive substring of the email or the display name. */
export function matchesSearch(u: ManagedUser, q: string): boolean {
  const needle = q.trim().toLowerCase();
  return needle === '' || u.spec.email.toLowerCase().includes(needle) || (u.spec.displayName ?? '').toLowerCase().includes(needle);
}

export const usersListScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/users', async (req, reply) => {
    const { q = '', page = 1 } = listQuery.parse(req.query ?? {});
    const all = await portalOf(req).org.list<ManagedUser>('ManagedUser');
    const found = all.filter((u) => matchesSearch(u, q)).sort((a, b) => a.spec.email.toLowerCase().localeCompare(b.spec.email.toLowerCase()));
    const pages = Math.max(1, Math.ceil(found.length / USERS_PER_PAGE));
    const current = Math.min(page, pages);
    const shown = found.slice((current - 1) * USERS_PER_PAGE, current * USERS_PER_PAGE);
    const link = (p: number) => `/users?${new URLSearchParams({ ...(q ? { q } : {}), page: String(p) }).toString()}`;
    const pager =
      pages > 1
        ? html`<nav aria-label="Pages" class="actions">${current > 1 ? html`<a href="${link(current - 1)}">Previous page</a>` : ''}<span>Page ${current} of ${pages}</span>${current < pages ? html`<a href="${link(current + 1)}">Next page</a>` : ''}</nav>`
        : '';
    const rows = shown.map(
      (u) =>
        html`<tr><td><a href="/users/${u.metadata.name}">${u.spec.email}</a></td><td>${u.spec.displayName ?? ''}</td><td>${(u.spec.roles ?? []).join(', ')}</td><td>${decisionText(u)}</td><td>${u.spec.active === false ? badge('bad', 'Deactivated') : badge('ok', 'Active')}</td></tr>`,
    );
    const table = found.length
      ? html`<p class="hint">${found.length} ${found.length === 1 ? 'user' : 'users'}${q ? html` matching “${q}”` : ''}.</p><table><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Roles</th><th scope="col">Single sign-on</th><th scope="col">Active</th></tr></thead><tbody>${rows}</tbody></table>${pager}`
      : html`<p>${q ? `No users match “${q}”.` : 'No managed users yet.'}</p>`;
    const body = html`<form method="get" action="/users" role="search" class="card">${inputField({ id: 'q', name: 'q', label: 'Search users', type: 'search', value: q, hint: 'Part of an email address or name.' })}<button type="submit">Search</button></form>
<p><a href="/users/import">Import users from a CSV file</a></p>${table}`;
    return sendHTML(reply, await renderScreen(ctx, req, { title: 'Users', section: 'users', lead: 'Everyone the organization manages, and whether they must sign in with single sign-on.', body }));
  });
};
