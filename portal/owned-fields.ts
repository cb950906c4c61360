// Edits of one object's spec by server-side apply that keep the portal's earlier work: an apply
// replaces everything the field manager applied before, so each edit re-applies the fields the
// portal already owns (read from managedFields) with the change on top. A dry run first shows
// what the API server would store; a change it would not store as asked — a set element or field
// another manager (SCIM, GitOps, kubectl) also holds — is refused as a conflict naming that
// manager, never forced.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../kube/informer.ts';
import { FIELD_MANAGER, PortalWriteError, type FieldProblem, type Organization, type OrgKind } from './organization.ts';

/** A managedFields fieldsV1 tree: f:<field>, v:<json set element>, k:<json map-list key>, "." for the node itself. */
type FieldSet = { [key: string]: FieldSet };

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: FieldSet;
}

export type SpecObject = KubeObject & { spec?: Record<string, unknown> };

/** Field values to set; `undefined` drops the portal's value of that field. */
export type SpecChanges = Record<string, unknown>;

function entriesOf(obj: KubeObject): ManagedFieldsEntry[] {
  const m = obj.metadata.managedFields;
  return Array.isArray(m) ? (m as ManagedFieldsEntry[]).filter((e) => !e.subresource) : [];
}

function isLeaf(set: FieldSet): boolean {
  return Object.keys(set).every((k) => k === '.');
}

const matchesKey = (element: unknown, key: Record<string, unknown>) =>
  typeof element === 'object' && element !== null && Object.entries(key).every(([k, v]) => isDeepStrictEqual((element as Record<string, unknown>)[k], v));

/** The part of `value` the field set covers. */
function pick(value: unknown, set: FieldSet): unknown {
  if (isLeaf(set)) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const [k, child] of Object.entries(set)) {
      if (k.startsWith('v:')) {
        const wanted: unknown = JSON.parse(k.slice(2));
        if (value.some((e) => isDeepStrictEqual(e, wanted))) out.push(wanted);
      } else if (k.startsWith('k:')) {
        const key = JSON.parse(k.slice(2)) as Record<string, unknown>;
        const element: unknown = value.find((e) => matchesKey(e, key));
        if (element !== undefined) out.push(pick(element, child));
      }
    }
    return out;
  }
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(set)) {
    if (!k.startsWith('f:')) continue;
    const name = k.slice(2);
    const v = (value as Record<string, unknown>)[name];
    if (v !== undefined) out[name] = pick(v, child);
  }
  return out;
}

/** The fields of `obj.spec` the portal applied before (and still owns). */
export function portalOwnedSpec(obj: SpecObject | undefined): Record<string, unknown> {
  const mine = obj && entriesOf(obj).find((e) => e.manager === FIELD_MANAGER && e.operation === 'Apply');
  const spec = mine?.fieldsV1?.['f:spec'];
  return spec && obj?.spec ? (pick(obj.spec, spec) as Record<string, unknown>) : {};
}

/** The apply body's spec: what the portal owns, with the changes on top. */
export function editedSpec(current: SpecObject | undefined, changes: SpecChanges): Record<string, unknown> {
  const spec = { ...portalOwnedSpec(current), ...changes };
  for (const [k, v] of Object.entries(spec)) if (v === undefined) delete spec[k];
  return spec;
}

/** Sets compare without order: the API server keeps a set's elements in its own order. */
function normalised(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalised).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, normalised(x)]));
  return v;
}

/** Other managers holding anything under spec.<field> (and element, for a set). */
function otherOwners(obj: KubeObject, field: string): string[] {
  const owners = entriesOf(obj)
    .filter((e) => e.manager !== FIELD_MANAGER && e.fieldsV1?.['f:spec']?.[`f:${field}`])
    .map((e) => e.manager ?? 'another tool');
  return [...new Set(owners)];
}

/**
 * The changes the stored (or dry-run) object does not carry as asked: a field or set element the
 * portal cannot take from another manager without forcing.
 */
export function unappliedChanges(stored: SpecObject, changes: SpecChanges): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [field, wanted] of Object.entries(changes)) {
    const got = stored.spec?.[field];
    if (isDeepStrictEqual(normalised(got), normalised(wanted))) continue;
    const owners = otherOwners(stored, field);
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

export interface EditOptions {
  resourceVersion?: string | undefined;
  dryRun?: boolean;
}

/**
 * Applies `changes` to spec, keeping the portal's other fields: a dry run first, refused as a
 * conflict when the result would differ from what the admin asked; then the apply itself.
 */
export async function applySpecEdit<T extends SpecObject>(org: Organization, kind: OrgKind, name: string, current: SpecObject | undefined, changes: SpecChanges, o: EditOptions = {}): Promise<T> {
  const fields = { spec: editedSpec(current, changes) };
  const preview = await org.apply<T>(kind, name, fields, { resourceVersion: o.resourceVersion, dryRun: true });
  const problems = unappliedChanges(preview, changes);
  if (problems.length > 0) throw unappliedError(problems);
  if (o.dryRun) return preview;
  return org.apply<T>(kind, name, fields, { resourceVersion: o.resourceVersion });
}
