// The portal's current applied configuration of an object, read back from managedFields. A
// server-side apply states the manager's whole intent: fields it owned and leaves out are removed.
// Each screen edits one part of an object, so it re-applies what the portal already owns and
// changes only its part (client-go calls this "extract").
import type { KubeObject } from '../kube/informer.ts';
import { FIELD_MANAGER } from './organization.ts';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
}
type FieldSet = { [key: string]: FieldSet };
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isRecord = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The members of a list a field set names by key (`k:{…}`), value (`v:…`) or index (`i:N`). */
function extractList(set: FieldSet, list: Json[]): Json[] {
  const out: Json[] = [];
  for (const [key, sub] of Object.entries(set)) {
    if (key.startsWith('k:')) {
      const keys = JSON.parse(key.slice(2)) as Record<string, Json>;
      const item = list.find((e) => isRecord(e) && Object.entries(keys).every(([k, v]) => e[k] === v));
      if (item !== undefined) out.push({ ...keys, ...(extract(sub, item) as Record<string, Json>) });
    } else if (key.startsWith('v:')) {
      out.push(JSON.parse(key.slice(2)) as Json);
    } else if (key.startsWith('i:')) {
      const item = list[Number(key.slice(2))];
      if (item !== undefined) out.push(extract(sub, item));
    }
  }
  return out;
}

function extract(set: FieldSet, value: Json): Json {
  const children = Object.keys(set).filter((k) => k !== '.');
  // A leaf, or an atomic object or list: owned as a whole.
  if (children.length === 0) return value;
  if (Array.isArray(value)) return extractList(set, value);
  if (!isRecord(value)) return value;
  const out: Record<string, Json> = {};
  for (const key of children) {
    if (!key.startsWith('f:')) continue;
    const name = key.slice(2);
    const child = value[name];
    if (child !== undefined) out[name] = extract(set[key] ?? {}, child);
  }
  return out;
}

export interface OwnedFields {
  spec?: unknown;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** What `manager` applied to `obj` and still owns: its spec and its labels and annotations. */
export function ownedFields(obj: KubeObject, manager: string = FIELD_MANAGER): OwnedFields {
  const entries = (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const entry = entries.find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource && e.fieldsType === 'FieldsV1');
  if (!entry?.fieldsV1) return {};
  const owned = extract(entry.fieldsV1, JSON.parse(JSON.stringify(obj)) as Json);
  if (!isRecord(owned)) return {};
  const metadata = isRecord(owned.metadata) ? owned.metadata : {};
  const out: OwnedFields = {};
  if (owned.spec !== undefined) out.spec = owned.spec;
  const labels = metadata.labels as Record<string, string> | undefined;
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (labels || annotations) out.metadata = { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
  return out;
}

/** Managers other than the portal that own `path` (e.g. ['spec', 'roleMapping']) or a field under it. */
export function otherOwnersOf(obj: KubeObject, path: readonly string[], manager: string = FIELD_MANAGER): string[] {
  const entries = (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return entries
    .filter((e) => e.manager !== manager && !e.subresource && path.reduce<FieldSet | undefined>((set, name) => set?.[`f:${name}`], e.fieldsV1) !== undefined)
    .map((e) => e.manager ?? 'another tool');
}
