// SCIM PATCH (RFC 7644 §3.5.2) over a resource's JSON representation, including what Microsoft
// Entra ID sends: capitalised `op` values ("Add", "Replace", "Remove"), operations without a
// `path` whose value is a map of attribute paths ("name.givenName", extension URNs), value
// filters in paths (`emails[type eq "work"].value`) that add the element when none matches, and
// removal of multi-valued members by value. The engine is pure: it returns a new object and
// never touches the input; schema validation of the result is the caller's job. Adding or
// removing m values of an n-valued attribute costs O(n + m) (values are compared through a set of
// their JSON), and the operation and value counts are bounded (limits.ts).
import { z } from 'zod';
import { badRequest, ScimError } from './errors.ts';
import { getAttr, matches, parseAttrPath, parseFilter, type AttrPath, type Filter } from './filter.ts';
import { checkValueCounts, MAX_PATCH_OPERATIONS, tooMany } from './limits.ts';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const patchRequest = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(PATCH_OP_SCHEMA), `schemas must contain ${PATCH_OP_SCHEMA}`),
  Operations: z
    .array(
      z.object({
        op: z.string().transform((s) => s.toLowerCase()).pipe(z.enum(['add', 'replace', 'remove'])),
        path: z.string().min(1).max(1024).optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(MAX_PATCH_OPERATIONS),
});
export type PatchRequest = z.infer<typeof patchRequest>;
export type PatchOperation = PatchRequest['Operations'][number];

/** Normalises the case of `Operations` (some clients send `operations`). */
export function parsePatchRequest(body: unknown): PatchRequest {
  let input = body;
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const rec = input as Record<string, unknown>;
    const ops = getAttr(rec, 'Operations');
    input = { ...rec, Operations: ops };
    if (Array.isArray(ops) && ops.length > MAX_PATCH_OPERATIONS) {
      throw tooMany(`a PATCH request may carry at most ${MAX_PATCH_OPERATIONS} operations (got ${ops.length})`);
    }
  }
  const res = patchRequest.safeParse(input);
  if (!res.success) throw badRequest('invalidSyntax', `invalid PATCH request: ${z.prettifyError(res.error)}`);
  return res.data;
}

type Obj = Record<string, unknown>;

export interface PatchPath {
  attr: AttrPath; // urn + attr (+ sub when there is no filter)
  filter?: Filter;
  sub?: string; // sub-attribute after a value filter
}

/** The schema URNs whose attributes live at the top level of a resource. */
export interface PatchOptions {
  coreSchemas: string[];
  /** Attributes clients may not change (id, meta…). Lower-case. */
  readOnly?: string[];
}

export function parsePatchPath(text: string, opts: PatchOptions): PatchPath {
  let path: PatchPath;
  const open = text.indexOf('[');
  try {
    if (open === -1) {
      path = { attr: parseAttrPath(text) };
    } else {
      const close = text.lastIndexOf(']');
      if (close < open) throw badRequest('invalidPath', `invalid path '${text}'`);
      const after = text.slice(close + 1);
      if (after !== '' && !/^\.[A-Za-z$][A-Za-z0-9_\-$]*$/.test(after)) throw badRequest('invalidPath', `invalid path '${text}'`);
      const attr = parseAttrPath(text.slice(0, open), false);
      const filter = parseFilter(text.slice(open + 1, close));
      path = { attr, filter, ...(after ? { sub: after.slice(1) } : {}) };
    }
  } catch (err) {
    if (err instanceof ScimError) throw badRequest('invalidPath', err.message);
    throw err;
  }
  // Attributes qualified with the core schema's URN live at the top level.
  const urn = path.attr.urn;
  if (urn && opts.coreSchemas.some((s) => s.toLowerCase() === urn.toLowerCase())) {
    const { urn: _drop, ...rest } = path.attr;
    path = { ...path, attr: rest };
  }
  if (opts.readOnly?.includes(path.attr.attr.toLowerCase()) && !path.attr.urn) {
    throw new ScimError(400, `attribute '${path.attr.attr}' is read-only`, 'mutability');
  }
  return path;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function keyOf(obj: Obj, name: string): string {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower) ?? name;
}

function setKey(obj: Obj, name: string, value: unknown): void {
  obj[keyOf(obj, name)] = value;
}

function deleteKey(obj: Obj, name: string): void {
  delete obj[keyOf(obj, name)];
}

/** Two values are the same value when their JSON is (the comparison PATCH always made), so a Set of it finds one in O(1). */
const identity = (v: unknown): string => JSON.stringify(v) ?? 'undefined';

/** The container (resource or extension object) that holds the attribute; created on demand. */
function container(resource: Obj, urn: string | undefined, create: boolean): Obj | undefined {
  if (!urn) return resource;
  const existing = getAttr(resource, urn);
  if (isObj(existing)) return existing;
  if (!create) return undefined;
  const fresh: Obj = {};
  setKey(resource, urn, fresh);
  return fresh;
}

/** Element fields implied by a filter made only of `attr eq value` terms joined by `and`. */
function impliedElement(filter: Filter): Obj | undefined {
  if (filter.kind === 'compare' && filter.op === 'eq' && !filter.path.sub && !filter.path.urn) {
    return { [filter.path.attr]: filter.value };
  }
  if (filter.kind === 'and') {
    const l = impliedElement(filter.left);
    const r = impliedElement(filter.right);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}

function mergeInto(target: Obj, value: Obj): void {
  for (const [k, v] of Object.entries(value)) setKey(target, k, v);
}

function addOrReplace(resource: Obj, path: PatchPath, value: unknown, replace: boolean): void {
  if (value === undefined) throw badRequest('invalidValue', `'${replace ? 'replace' : 'add'}' needs a value`);
  const holder = container(resource, path.attr.urn, true)!;
  const name = path.attr.attr;
  const current = getAttr(holder, name);

  if (path.filter) {
    if (!Array.isArray(current) || !current.some((e) => matches(e, path.filter!))) {
      // Entra ID adds e.g. emails[type eq "work"].value to a user who has no work email yet.
      const implied = impliedElement(path.filter);
      if (!implied) throw badRequest('noTarget', `no value of '${name}' matches the path filter`);
      const element: Obj = { ...implied };
      if (path.sub) setKey(element, path.sub, value);
      else if (isObj(value)) mergeInto(element, value);
      else throw badRequest('invalidValue', `a value for '${name}' must be an object`);
      setKey(holder, name, [...(Array.isArray(current) ? current : []), element]);
      return;
    }
    setKey(
      holder,
      name,
      current.map((e) => {
        if (!matches(e, path.filter!) || !isObj(e)) return e;
        const copy = { ...e };
        if (path.sub) setKey(copy, path.sub, value);
        else if (isObj(value)) mergeInto(copy, value);
        else throw badRequest('invalidValue', `a value for '${name}' must be an object`);
        return copy;
      }),
    );
    return;
  }

  if (path.attr.sub) {
    if (Array.isArray(current)) {
      setKey(holder, name, current.map((e) => (isObj(e) ? { ...e, [keyOf(e, path.attr.sub!)]: value } : e)));
    } else {
      const parent: Obj = isObj(current) ? { ...current } : {};
      setKey(parent, path.attr.sub, value);
      setKey(holder, name, parent);
    }
    return;
  }

  if (Array.isArray(current) && !replace) {
    const added = Array.isArray(value) ? value : [value];
    const next = [...current];
    const present = new Set(current.map(identity));
    for (const v of added) {
      const id = identity(v);
      if (present.has(id)) continue;
      present.add(id);
      next.push(v);
    }
    setKey(holder, name, next);
  } else if (isObj(current) && isObj(value)) {
    const copy = { ...current };
    mergeInto(copy, value);
    setKey(holder, name, copy);
  } else {
    setKey(holder, name, value);
  }
}

function remove(resource: Obj, path: PatchPath, value: unknown): void {
  const holder = container(resource, path.attr.urn, false);
  if (!holder) return;
  const name = path.attr.attr;
  const current = getAttr(holder, name);
  if (current === undefined) return;

  if (path.filter) {
    if (!Array.isArray(current)) return;
    if (path.sub) {
      setKey(holder, name, current.map((e) => {
        if (!isObj(e) || !matches(e, path.filter!)) return e;
        const copy = { ...e };
        deleteKey(copy, path.sub!);
        return copy;
      }));
    } else {
      const kept = current.filter((e) => !matches(e, path.filter!));
      if (kept.length > 0) setKey(holder, name, kept);
      else deleteKey(holder, name);
    }
    return;
  }
  if (path.attr.sub) {
    if (isObj(current)) {
      const copy = { ...current };
      deleteKey(copy, path.attr.sub);
      setKey(holder, name, copy);
    } else if (Array.isArray(current)) {
      setKey(holder, name, current.map((e) => {
        if (!isObj(e)) return e;
        const copy = { ...e };
        deleteKey(copy, path.attr.sub!);
        return copy;
      }));
    }
    return;
  }
  // Entra ID removes group members as {"op":"Remove","path":"members","value":[{"value":"id"}]}.
  if (Array.isArray(current) && value !== undefined) {
    const gone = new Set<string>();
    for (const v of Array.isArray(value) ? value : [value]) {
      const g = isObj(v) ? getAttr(v, 'value') : v;
      if (g !== undefined) gone.add(identity(g));
    }
    const kept = current.filter((e) => !gone.has(identity(e)) && !(isObj(e) && gone.has(identity(getAttr(e, 'value')))));
    if (kept.length > 0) setKey(holder, name, kept);
    else deleteKey(holder, name);
    return;
  }
  deleteKey(holder, name);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Applies the operations in order; any failure rejects the whole request (no partial patch). */
export function applyPatch(resource: Obj, operations: PatchOperation[], opts: PatchOptions): Obj {
  if (operations.length > MAX_PATCH_OPERATIONS) throw tooMany(`a PATCH request may carry at most ${MAX_PATCH_OPERATIONS} operations`);
  const out = clone(resource);
  for (const op of operations) {
    if (op.path === undefined) {
      if (op.op === 'remove') throw badRequest('noTarget', "'remove' needs a path");
      if (!isObj(op.value)) throw badRequest('invalidValue', `'${op.op}' without a path needs an object value`);
      for (const [key, v] of Object.entries(op.value)) {
        if (isObj(v) && isExtensionUrn(key) && !opts.coreSchemas.some((s) => s.toLowerCase() === key.toLowerCase())) {
          // A whole extension object: each of its attributes is set individually.
          for (const [sk, sv] of Object.entries(v as Obj)) {
            addOrReplace(out, parsePatchPath(`${key}:${sk}`, opts), sv, op.op === 'replace');
          }
        } else {
          addOrReplace(out, parsePatchPath(key, opts), v, op.op === 'replace');
        }
      }
      continue;
    }
    const path = parsePatchPath(op.path, opts);
    if (op.op === 'remove') remove(out, path, op.value);
    else addOrReplace(out, path, op.value, op.op === 'replace');
  }
  checkValueCounts(out);
  return out;
}

/** A schema URN (…:2.0:User), as opposed to an attribute qualified by one (…:2.0:User:manager). */
function isExtensionUrn(key: string): boolean {
  return /^urn:.*:2\.0:[A-Za-z]+$/i.test(key);
}
