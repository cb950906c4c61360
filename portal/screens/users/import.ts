// Bulk user import (the guides' "Bulk User Import"): a CSV upload, every row checked (schema,
// duplicates, then the API server's dry run of its apply) before anything is written; written only
// when every row passes. Should the API server refuse a row after its dry run passed, the page says
// exactly which rows were saved and which were not.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ManagedUser } from '../../../crds/api/index.ts';
import { html, type HtmlValue } from '../../../ui/html.ts';
import type { PortalContext, RouteOptions } from '../../context.ts';
import { portalOf } from '../../session/request-session.ts';
import { notice, renderScreen, sendHTML } from '../../views/frame.ts';
import { csrfField, disabledIfReadOnly, inputField } from '../../views/forms.ts';
import { importRows } from './bulk-apply.ts';
import { IMPORT_COLUMNS, MAX_IMPORT_ROWS, planImport, type PlannedRow, type RowProblem } from './csv.ts';

const FILE_FIELD = 'csv';

function form(req: FastifyRequest): HtmlValue {
  return html`<form method="post" action="/users/import" enctype="multipart/form-data" class="card">${csrfField(req)}
${inputField({ id: 'csv-file', name: FILE_FIELD, label: 'CSV file', type: 'file', accept: '.csv,text/csv', required: true, hint: html`Header row <code>${IMPORT_COLUMNS.join(',')}</code>; only email is required. Roles are separated by <code>;</code>, sso is Inherit, Enabled or Disabled, active is true or false. At most ${MAX_IMPORT_ROWS} users and 1 MiB. A row whose email is already a user updates that user.` })}
<div class="actions"><button type="submit"${disabledIfReadOnly(req)}>Import users</button> <a href="/users">Back to users</a></div></form>`;
}

function problemsTable(problems: readonly RowProblem[]): HtmlValue {
  return html`<table><caption>Problems, by line of the file</caption><thead><tr><th scope="col">Line</th><th scope="col">Email</th><th scope="col">Problem</th></tr></thead><tbody>${problems.map(
    (p) => html`<tr><td>${p.line}</td><td>${p.email ?? ''}</td><td>${p.message}</td></tr>`,
  )}</tbody></table>`;
}

const rowList = (rows: readonly PlannedRow[]) => rows.map((r) => `line ${r.line} (${r.email})`).join(', ');

async function show(ctx: PortalContext, req: FastifyRequest, reply: FastifyReply, result: HtmlValue, status = 200): Promise<FastifyReply> {
  return sendHTML(reply, await renderScreen(ctx, req, { title: 'Import users', section: 'users', lead: 'Add or update many users at once. Every row is checked first; nothing is saved unless all of them pass.', body: html`${result}${form(req)}` }), status);
}

export const userImportScreen: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get('/users/import', async (req, reply) => show(ctx, req, reply, ''));

  app.post('/users/import', async (req, reply) => {
    const { org, readOnly } = portalOf(req);
    if (readOnly) return show(ctx, req, reply, notice('error', readOnly), 403);
    const file = (req.body as Record<string, unknown> | undefined)?.[FILE_FIELD];
    if (!Buffer.isBuffer(file) || file.length === 0) return show(ctx, req, reply, notice('error', 'Choose a CSV file to import.'), 422);
    const users = await org.list<ManagedUser>('ManagedUser');
    const plan = planImport(file, users);
    if (!plan.ok) return show(ctx, req, reply, html`${notice('error', `Nothing was imported: ${plan.problems.length} ${plan.problems.length === 1 ? 'problem' : 'problems'} in the file. Fix them and upload the file again.`)}${problemsTable(plan.problems)}`, 422);

    const outcome = await importRows(org, plan.rows);
    if (outcome.stage === 'checked')
      return show(ctx, req, reply, html`${notice('error', `Nothing was imported: the cluster would refuse ${outcome.refused.length} ${outcome.refused.length === 1 ? 'row' : 'rows'}. Fix them and upload the file again.`)}${problemsTable(outcome.refused.map((o) => ({ line: o.row.line, email: o.row.email, message: o.message })))}`, 422);
    const { saved, failed } = outcome;
    const created = saved.filter((r) => !r.existing);
    const updated = saved.filter((r) => r.existing);
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: org.namespace } };
    await org.recordChange(namespace, 'UsersImported', `imported users from a CSV file: ${created.length} created, ${updated.length} updated${failed.length ? `, ${failed.length} refused` : ''}`, failed.length ? 'Warning' : 'Normal');
    const summary = html`<p>${created.length} ${created.length === 1 ? 'user' : 'users'} created, ${updated.length} updated.</p>${updated.length ? html`<p>Updated existing users: ${rowList(updated)}.</p>` : ''}`;
    if (failed.length === 0) return show(ctx, req, reply, notice('ok', html`<p>Imported all ${saved.length} rows.</p>${summary}`));
    // Rare: the dry run passed, then the API server refused (a concurrent edit, a quota).
    const total = saved.length + failed.length;
    return show(
      ctx,
      req,
      reply,
      html`${notice('error', html`<p>Not every row was saved: ${saved.length} of ${total} rows were saved and ${failed.length} were refused by the cluster, although every row passed the check. Upload a file with only the rows not saved once the cause is fixed.</p>${summary}<p>Saved: ${rowList(saved) || 'none'}.</p>`)}${problemsTable(failed.map((o) => ({ line: o.row.line, email: o.row.email, message: `not saved: ${o.message}` })))}`,
      500,
    );
  });
};
