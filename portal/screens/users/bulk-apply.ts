// The writes of an import: a server-side dry run of every row's apply, then — only when every row
// passed — the applies themselves, both with bounded concurrency. The outcome says exactly which
// rows were saved, so a refusal after a passed dry run is reported row by row, never hidden.
import type { ManagedUser } from '../../../crds/api/index.ts';
import { PortalWriteError, type Organization } from '../../organization.ts';
import { applySpecEdit, unappliedChanges, unappliedError, withSpecChanges } from '../../spec-edit.ts';
import type { PlannedRow } from './csv.ts';

/** Applies in flight at once: fast enough for 5,000 rows without crowding the API server. */
export const IMPORT_CONCURRENCY = 8;

/** Runs `fn` over every item with at most `limit` in flight; results in item order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface RefusedRow {
  row: PlannedRow;
  message: string;
}
type RowOutcome = { row: PlannedRow; ok: true } | ({ ok: false } & RefusedRow);

export type ImportOutcome = { stage: 'checked'; refused: RefusedRow[] } | { stage: 'applied'; saved: PlannedRow[]; failed: RefusedRow[] };

function messageOf(err: unknown): string {
  return err instanceof PortalWriteError ? err.message : `the cluster did not answer (${err instanceof Error ? err.message : String(err)})`;
}

type Writer = Pick<Organization, 'apply' | 'edit'>;

/** A new user's create, or an existing user's edit (from the generation listed), previewed or for real. */
async function write(org: Writer, row: PlannedRow, dryRun: boolean): Promise<void> {
  if (row.existing) {
    const generation = row.existing.metadata.generation;
    if (dryRun) await applySpecEdit<ManagedUser>(org, 'ManagedUser', row.name, row.changes, { generation, dryRun });
    else await org.edit<ManagedUser>('ManagedUser', row.name, (owned) => withSpecChanges(owned, row.changes), { generation });
    return;
  }
  const stored = await org.apply<ManagedUser>('ManagedUser', row.name, { spec: row.changes }, { dryRun });
  const problems = dryRun ? unappliedChanges(stored, row.changes) : [];
  if (problems.length) throw unappliedError(problems);
}

/** One row's apply: the dry run checks what the API server would store; the real one stores it. */
async function applyRow(org: Writer, row: PlannedRow, dryRun: boolean): Promise<RowOutcome> {
  try {
    await write(org, row, dryRun);
    return { row, ok: true };
  } catch (err) {
    return { row, ok: false, message: messageOf(err) };
  }
}

const refusedOf = (outcomes: readonly RowOutcome[]): RefusedRow[] => outcomes.flatMap((o) => (o.ok ? [] : [{ row: o.row, message: o.message }]));

export async function importRows(org: Writer, rows: readonly PlannedRow[], concurrency = IMPORT_CONCURRENCY): Promise<ImportOutcome> {
  const refused = refusedOf(await mapBounded(rows, concurrency, (row) => applyRow(org, row, true)));
  if (refused.length) return { stage: 'checked', refused };
  const outcomes = await mapBounded(rows, concurrency, (row) => applyRow(org, row, false));
  return { stage: 'applied', saved: outcomes.filter((o) => o.ok).map((o) => o.row), failed: refusedOf(outcomes) };
}
