// The part of an object a field manager owns, read from its managedFields. A server-side apply
// removes every field the manager applied before and leaves out now, so a screen that changes one
// field applies it together with the rest of what the portal owns — never less, never more (which
// would take shared ownership of fields GitOps or kubectl set).
import type { KubeObject } from '../kube/informer.ts';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

type FieldSet = Record<string, unknown>;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function matchesKey(item: unknown, key: string): boolean {
  if (!isRecord(item)) return false;
  try {
    const want = JSON.parse(key) as Record<string, unknown>;
    return Object.entries(want).every(([k, v]) => JSON.stringify(item[k]) === JSON.stringify(v));
  } catch {
    return false;
  }
}

/** The value restricted to the fields a fieldsV1 set names (a leaf set means the whole value). */
function project(value: unknown, set: FieldSet): unknown {
  const keys = Object.keys(set).filter((k) => k !== '.');
  if (keys.length === 0) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const entry = keys.find((k) => (k.startsWith('v:') && JSON.stringify(item) === JSON.stringify(JSON.parse(k.slice(2)))) || (k.startsWith('k:') && matchesKey(item, k.slice(2))));
      if (entry !== undefined) out.push(project(item, (set[entry] as FieldSet) ?? {}));
    }
    return out;
  }
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (!k.startsWith('f:')) continue;
    const name = k.slice(2);
    if (name in value) out[name] = project(value[name], isRecord(set[k]) ? (set[k] as FieldSet) : {});
  }
  return out;
}

/** spec and metadata labels/annotations of `obj` that `manager` applied (not its status writes). */
export function ownedBy(obj: KubeObject, manager: string): { spec?: Record<string, unknown>; metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } } {
  const entries = ((obj.metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter((m) => m.manager === manager && m.operation === 'Apply' && !m.subresource);
  const out: { spec?: Record<string, unknown>; metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } } = {};
  for (const e of entries) {
    const fields = e.fieldsV1 ?? {};
    const spec = isRecord(fields['f:spec']) ? project((obj as { spec?: unknown }).spec, fields['f:spec'] as FieldSet) : undefined;
    if (isRecord(spec)) out.spec = deepMerge(out.spec ?? {}, spec);
    const meta = isRecord(fields['f:metadata']) ? (project(obj.metadata, fields['f:metadata'] as FieldSet) as Record<string, unknown>) : undefined;
    if (isRecord(meta?.labels)) out.metadata = { ...out.metadata, labels: meta.labels as Record<string, string> };
    if (isRecord(meta?.annotations)) out.metadata = { ...out.metadata, annotations: meta.annotations as Record<string, string> };
  }
  return out;
}

/** `change` laid over `base`: objects merge, anything else (lists included) is replaced. */
export function deepMerge<T extends Record<string, unknown>>(base: T, change: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(change)) out[k] = isRecord(v) && isRecord(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out as T;
}
