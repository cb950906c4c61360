// The bulk-import file: a CSV with the header email,displayName,roles,sso,active (any order, only
// email required; roles separated by ';'), read into one planned write per row, each checked on its
// own against the ManagedUser schema and against the other rows and the existing users. Every
// problem carries the line number of its row in the file.
import { parse } from 'csv-parse/sync';
import { managedUserSpec, SSO_OVERRIDES, type ManagedUser, type ManagedUserSpec } from '../../../crds/api/index.ts';
import { userNameForEmail } from '../../../sp-server/scim/labels.ts';

export const MAX_IMPORT_ROWS = 5000;
export const MAX_IMPORT_BYTES = 1_048_576;
export const IMPORT_COLUMNS = ['email', 'displayName', 'roles', 'sso', 'active'] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

export interface RowProblem {
  line: number;
  email?: string | undefined;
  message: string;
}

/** One row's write: a new user, or the given columns applied to an existing one. */
export interface PlannedRow {
  line: number;
  email: string;
  name: string;
  existing: ManagedUser | undefined;
  /** The spec fields the row sets (the whole spec of a new user). */
  changes: Partial<ManagedUserSpec>;
}

export type ImportPlan = { ok: true; rows: PlannedRow[] } | { ok: false; problems: RowProblem[] };

const fail = (problems: RowProblem[]): ImportPlan => ({ ok: false, problems });

function readRecords(input: Buffer): { records: { line: number; cells: string[] }[] } | { problem: RowProblem } {
  try {
    const parsed = parse(input, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true, raw: true, max_record_size: 65_536 }) as unknown as { record: string[]; raw: string; info: { lines: number } }[];
    // info.lines is where a record ends; a quoted cell may span lines, and the admin looks for where it starts.
    const spanned = (raw: string) => raw.replace(/^[\r\n]+|[\r\n]+$/g, '').split(/\r\n|\n|\r/).length - 1;
    return { records: parsed.map((p) => ({ line: p.info.lines - spanned(p.raw), cells: p.record })) };
  } catch (err) {
    const line = typeof (err as { lines?: unknown }).lines === 'number' ? (err as { lines: number }).lines : 1;
    return { problem: { line, message: `not valid CSV: ${err instanceof Error ? err.message.replace(/^Invalid [^:]+: /, '') : String(err)}` } };
  }
}

function headerOf(cells: readonly string[]): { columns: Column[] } | { message: string } {
  const columns: Column[] = [];
  for (const c of cells) {
    const col = IMPORT_COLUMNS.find((k) => k.toLowerCase() === c.toLowerCase());
    if (!col) return { message: `unknown column "${c}": the header must use ${IMPORT_COLUMNS.join(',')}` };
    if (columns.includes(col)) return { message: `column "${col}" appears twice in the header` };
    columns.push(col);
  }
  if (!columns.includes('email')) return { message: `the header has no email column (expected ${IMPORT_COLUMNS.join(',')})` };
  return { columns };
}

/** One row's cells as spec fields; empty cells are left out (the user keeps, or defaults, that field). */
function specOf(values: Partial<Record<Column, string>>): { spec: Record<string, unknown>; problems: string[] } {
  const spec: Record<string, unknown> = { email: values.email ?? '' };
  const problems: string[] = [];
  if (values.displayName) spec.displayName = values.displayName;
  if (values.roles) spec.roles = [...new Set(values.roles.split(';').map((r) => r.trim()).filter(Boolean))];
  if (values.sso) {
    const sso = SSO_OVERRIDES.find((s) => s.toLowerCase() === values.sso?.toLowerCase());
    if (sso) spec.sso = sso;
    else problems.push(`sso: "${values.sso}" is not one of ${SSO_OVERRIDES.join(', ')}`);
  }
  if (values.active) {
    const a = values.active.toLowerCase();
    if (a === 'true' || a === 'false') spec.active = a === 'true';
    else problems.push(`active: "${values.active}" is not true or false`);
  }
  return { spec, problems };
}

function schemaProblems(spec: Record<string, unknown>): string[] {
  const res = managedUserSpec.safeParse(spec);
  if (res.success) return [];
  return res.error.issues.map((i) => {
    const [field, index] = i.path;
    const where = field === 'roles' && typeof index === 'number' ? `roles: "${String((spec.roles as string[])[index])}"` : String(field ?? 'row');
    const why = field === 'roles' && typeof index === 'number' ? 'is not a valid role (lower-case letters, digits and . _ : -, at most 63)' : field === 'email' ? 'is not a valid email address' : i.message;
    return `${where} ${why}`;
  });
}

/**
 * Reads and checks the whole file. `users` are the organization's ManagedUsers: a row whose email
 * one of them has updates it (the columns given), any other row creates a user.
 */
export function planImport(input: Buffer, users: readonly ManagedUser[]): ImportPlan {
  if (input.length > MAX_IMPORT_BYTES) return fail([{ line: 1, message: `the file is larger than ${MAX_IMPORT_BYTES / 1_048_576} MiB` }]);
  const read = readRecords(input);
  if ('problem' in read) return fail([read.problem]);
  const [header, ...rows] = read.records;
  if (!header) return fail([{ line: 1, message: `the file is empty: expected the header ${IMPORT_COLUMNS.join(',')} and one row per user` }]);
  const h = headerOf(header.cells);
  if ('message' in h) return fail([{ line: header.line, message: h.message }]);
  if (rows.length === 0) return fail([{ line: header.line, message: 'the file has a header but no users' }]);
  if (rows.length > MAX_IMPORT_ROWS) return fail([{ line: header.line, message: `the file has ${rows.length} users; at most ${MAX_IMPORT_ROWS} can be imported at once` }]);
  const byEmail = new Map(users.map((u) => [u.spec.email.toLowerCase(), u]));
  const seen = new Map<string, number>();
  const problems: RowProblem[] = [];
  const planned: PlannedRow[] = [];
  for (const { line, cells } of rows) {
    const values: Partial<Record<Column, string>> = Object.fromEntries(h.columns.map((c, i) => [c, cells[i] ?? '']));
    const email = values.email ?? '';
    const rowProblems: string[] = [];
    if (cells.length !== h.columns.length) rowProblems.push(`has ${cells.length} values; the header has ${h.columns.length}`);
    if (!email) rowProblems.push('email is empty');
    const { spec, problems: cellProblems } = specOf(values);
    rowProblems.push(...cellProblems, ...(email ? schemaProblems(spec) : []));
    const key = email.toLowerCase();
    const first = seen.get(key);
    if (email && first !== undefined) rowProblems.push(`${email} already appears on line ${first}`);
    else if (email) seen.set(key, line);
    if (rowProblems.length) {
      problems.push(...rowProblems.map((message) => ({ line, email: email || undefined, message })));
      continue;
    }
    const existing = byEmail.get(key);
    const { email: _same, ...columns } = spec as Partial<ManagedUserSpec>;
    planned.push({ line, email, name: existing?.metadata.name ?? userNameForEmail(email), existing, changes: existing ? columns : (spec as Partial<ManagedUserSpec>) });
  }
  return problems.length ? fail(problems) : { ok: true, rows: planned };
}
