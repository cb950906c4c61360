// A change to part of an object's spec, previewed first: Organization.edit keeps the portal's other
// fields, and the server's dry run shows what would be stored. A change the result does not carry
// as asked — a field or set element (a role, an exempt address) another manager such as SCIM,
// GitOps or kubectl also holds — is refused as a conflict naming that manager, never forced and
// never silently half-done.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../kube/informer.ts';
import { PortalWriteError, type FieldProblem, type Organization, type OrgKind } from './organization.ts';
import { otherOwnersOf, type OwnedFields } from './owned-fields.ts';

export type SpecObject = KubeObject & { spec?: Record<string, unknown> };

/** Spec fields to set; `undefined` drops the portal's value of that field. */
export type SpecChanges = Record<string, unknown>;

/** The portal's intent: what it owns, with the changes on top. */
export function withSpecChanges(owned: OwnedFields, changes: SpecChanges): OwnedFields {
  const spec: Record<string, unknown> = { ...((owned.spec as Record<string, unknown> | undefined) ?? {}), ...changes };
  for (const [k, v] of Object.entries(spec)) if (v === undefined) delete spec[k];
  return { ...owned, spec };
}

/** Sets compare without order: the API server keeps a set's elements in its own order. */
function normalised(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalised).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, normalised(x)]));
  return v;
}

/** The changes the stored (or dry-run) object does not carry as asked, with who holds them. */
export function unappliedChanges(stored: SpecObject, changes: SpecChanges): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [field, wanted] of Object.entries(changes)) {
    if (isDeepStrictEqual(normalised(stored.spec?.[field]), normalised(wanted))) continue;
    const owners = [...new Set(otherOwnersOf(stored, ['spec', field]))];
    problems.push({ field: `spec.${field}`, message: `also set by ${owners.join(', ') || 'another tool'}, which the portal does not override` });
  }
  return problems;
}

export function unappliedError(problems: readonly FieldProblem[]): PortalWriteError {
  return new PortalWriteError(
    'conflict',
    `Not saved: ${problems.map((p) => `${p.field} is ${p.message}`).join('; ')}. Change ${problems.length === 1 ? 'it' : 'them'} where it is managed (for example SCIM, GitOps or kubectl), or ask the platform team.`,
    [...problems],
  );
}

export interface SpecEditOptions {
  /** The generation the admin's form was rendered from: a spec change since is a conflict. */
  generation?: number | undefined;
  /** Only the preview. */
  dryRun?: boolean;
}

/** Edits an existing object's spec: a dry run first, refused when the result would differ from the ask. */
export async function applySpecEdit<T extends SpecObject>(org: Pick<Organization, 'edit'>, kind: OrgKind, name: string, changes: SpecChanges, o: SpecEditOptions = {}): Promise<{ before: T; after: T }> {
  const change = (owned: OwnedFields) => withSpecChanges(owned, changes);
  const preview = await org.edit<T>(kind, name, change, { generation: o.generation, dryRun: true });
  const problems = unappliedChanges(preview.after, changes);
  if (problems.length > 0) throw unappliedError(problems);
  if (o.dryRun) return preview;
  return org.edit<T>(kind, name, change, { generation: o.generation });
}
