// The SCIM filter language (RFC 7644 §3.4.2.2): a tokeniser and a recursive-descent parser
// producing an AST, and an evaluator over SCIM resources in their JSON representation.
//
//   filter     = orExpr
//   orExpr     = andExpr *("or" andExpr)
//   andExpr    = notExpr *("and" notExpr)
//   notExpr    = "not" "(" filter ")" / atom
//   atom       = "(" filter ")" / attrPath "[" filter "]" / attrPath "pr" / attrPath compareOp compValue
//
// Attribute names are case-insensitive; string comparisons are too, except for the attributes
// RFC 7643 declares caseExact (id, externalId, meta.version).
import { badRequest } from './errors.ts';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;

/** An attribute path: optional schema URN, attribute name, optional sub-attribute. */
export interface AttrPath {
  urn?: string;
  attr: string;
  sub?: string;
}

export type Filter =
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: Literal }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'valuePath'; path: AttrPath; filter: Filter };

type Token =
  | { type: 'word'; text: string; pos: number }
  | { type: 'string'; value: string; pos: number }
  | { type: 'number'; value: number; pos: number }
  | { type: '(' | ')' | '[' | ']'; pos: number }
  | { type: 'end'; pos: number };

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const MAX_FILTER_LENGTH = 4096;
const MAX_DEPTH = 32;

export function tokenize(input: string): Token[] {
  if (input.length > MAX_FILTER_LENGTH) throw badRequest('invalidFilter', `filter longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ type: c, pos: i });
      i++;
    } else if (c === '"') {
      // A JSON string literal, escapes included.
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw badRequest('invalidFilter', `unterminated string at position ${i}`);
      let value: unknown;
      try {
        value = JSON.parse(input.slice(i, j + 1));
      } catch {
        throw badRequest('invalidFilter', `invalid string literal at position ${i}`);
      }
      tokens.push({ type: 'string', value: value as string, pos: i });
      i = j + 1;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(input.slice(i));
      if (!m) throw badRequest('invalidFilter', `invalid number at position ${i}`);
      tokens.push({ type: 'number', value: Number(m[0]), pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      // Attribute paths, keywords and URNs: letters, digits, '_', '-', '$', '.', ':'.
      let j = i;
      while (j < input.length && /[A-Za-z0-9_\-$.:]/.test(input[j]!)) j++;
      tokens.push({ type: 'word', text: input.slice(i, j), pos: i });
      i = j;
    } else {
      throw badRequest('invalidFilter', `unexpected character '${c}' at position ${i}`);
    }
  }
  tokens.push({ type: 'end', pos: input.length });
  return tokens;
}

const ATTR_NAME = /^[A-Za-z$][A-Za-z0-9_\-$]*$/;

/** Parses `urn:…:Attr.sub`, `attr.sub` or `attr`. */
export function parseAttrPath(text: string, allowSub = true): AttrPath {
  let rest = text;
  let urn: string | undefined;
  if (/^urn:/i.test(text)) {
    const idx = text.lastIndexOf(':');
    urn = text.slice(0, idx);
    rest = text.slice(idx + 1);
    if (!urn.includes(':') || rest === '') throw badRequest('invalidFilter', `invalid attribute path '${text}'`);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || (!allowSub && parts.length > 1) || !parts.every((p) => ATTR_NAME.test(p))) {
    throw badRequest('invalidFilter', `invalid attribute path '${text}'`);
  }
  return { ...(urn ? { urn } : {}), attr: parts[0]!, ...(parts[1] ? { sub: parts[1] } : {}) };
}

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly tokens: Token[];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.type !== 'end') this.pos++;
    return t;
  }

  private isKeyword(t: Token, kw: string): boolean {
    return t.type === 'word' && t.text.toLowerCase() === kw;
  }

  private expect(type: Token['type']): Token {
    const t = this.next();
    if (t.type !== type) throw badRequest('invalidFilter', `expected '${type}' at position ${t.pos}`);
    return t;
  }

  parseAll(): Filter {
    const f = this.parseOr();
    const t = this.peek();
    if (t.type !== 'end') throw badRequest('invalidFilter', `unexpected input at position ${t.pos}`);
    return f;
  }

  private parseOr(): Filter {
    if (++this.depth > MAX_DEPTH) throw badRequest('invalidFilter', 'filter nested too deeply');
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    this.depth--;
    return left;
  }

  private parseAnd(): Filter {
    let left = this.parseNot();
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Filter {
    const t = this.peek();
    if (this.isKeyword(t, 'not') && this.tokens[this.pos + 1]?.type === '(') {
      this.next();
      this.next();
      const inner = this.parseOr();
      this.expect(')');
      return { kind: 'not', filter: inner };
    }
    return this.parseAtom();
  }

  private parseAtom(): Filter {
    const t = this.next();
    if (t.type === '(') {
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    if (t.type !== 'word') throw badRequest('invalidFilter', `expected an attribute at position ${t.pos}`);
    if (this.peek().type === '[') {
      this.next();
      const path = parseAttrPath(t.text, false);
      const inner = this.parseOr();
      this.expect(']');
      if (containsValuePath(inner)) throw badRequest('invalidFilter', 'value filters cannot be nested');
      return { kind: 'valuePath', path, filter: inner };
    }
    const path = parseAttrPath(t.text);
    const opTok = this.next();
    if (opTok.type !== 'word') throw badRequest('invalidFilter', `expected an operator at position ${opTok.pos}`);
    const op = opTok.text.toLowerCase();
    if (op === 'pr') return { kind: 'present', path };
    if (!COMPARE_OPS.has(op)) throw badRequest('invalidFilter', `unknown operator '${opTok.text}' at position ${opTok.pos}`);
    const v = this.next();
    let value: Literal;
    if (v.type === 'string' || v.type === 'number') value = v.value;
    else if (v.type === 'word' && v.text === 'true') value = true;
    else if (v.type === 'word' && v.text === 'false') value = false;
    else if (v.type === 'word' && v.text === 'null') value = null;
    else throw badRequest('invalidFilter', `expected a value at position ${v.pos}`);
    return { kind: 'compare', path, op: op as CompareOp, value };
  }
}

function containsValuePath(f: Filter): boolean {
  switch (f.kind) {
    case 'and':
    case 'or':
      return containsValuePath(f.left) || containsValuePath(f.right);
    case 'not':
      return containsValuePath(f.filter);
    case 'valuePath':
      return true;
    default:
      return false;
  }
}

export function parseFilter(input: string): Filter {
  if (input.trim() === '') throw badRequest('invalidFilter', 'empty filter');
  return new Parser(tokenize(input)).parseAll();
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const CASE_EXACT = new Set(['id', 'externalid', 'version']);

type Json = unknown;

/** Case-insensitive property lookup, as SCIM attribute names are case-insensitive. */
export function getAttr(obj: Json, name: string): Json {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  // Own properties only: `constructor` or `toString` are JavaScript's, not the resource's attributes.
  if (Object.hasOwn(rec, name)) return rec[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

/** The values an attribute path designates in a resource (flattened over multi-valued attributes). */
export function resolvePath(resource: Json, path: AttrPath): Json[] {
  const base = path.urn ? getAttr(resource, path.urn) : resource;
  const top = getAttr(base, path.attr);
  const items = Array.isArray(top) ? top : top === undefined ? [] : [top];
  if (!path.sub) return items;
  const out: Json[] = [];
  for (const item of items) {
    const v = getAttr(item, path.sub);
    if (Array.isArray(v)) out.push(...v);
    else if (v !== undefined) out.push(v);
  }
  return out;
}

function compare(actual: Json, op: CompareOp, expected: Literal, caseExact: boolean): boolean {
  if (op === 'eq' && expected === null) return actual === null || actual === undefined;
  if (op === 'ne' && expected === null) return actual !== null && actual !== undefined;
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = caseExact ? actual : actual.toLowerCase();
    const e = caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq': return a === e;
      case 'ne': return a !== e;
      case 'co': return a.includes(e);
      case 'sw': return a.startsWith(e);
      case 'ew': return a.endsWith(e);
      case 'gt': return a > e;
      case 'ge': return a >= e;
      case 'lt': return a < e;
      case 'le': return a <= e;
    }
  }
  if (typeof actual === 'number' && typeof expected === 'number') {
    switch (op) {
      case 'eq': return actual === expected;
      case 'ne': return actual !== expected;
      case 'gt': return actual > expected;
      case 'ge': return actual >= expected;
      case 'lt': return actual < expected;
      case 'le': return actual <= expected;
      default: return false;
    }
  }
  if (typeof actual === 'boolean' && typeof expected === 'boolean') {
    if (op === 'eq') return actual === expected;
    if (op === 'ne') return actual !== expected;
    return false;
  }
  return op === 'ne';
}

function isPresent(v: Json): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export function matches(resource: Json, filter: Filter): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(resource, filter.left) && matches(resource, filter.right);
    case 'or':
      return matches(resource, filter.left) || matches(resource, filter.right);
    case 'not':
      return !matches(resource, filter.filter);
    case 'present':
      return resolvePath(resource, filter.path).some(isPresent);
    case 'compare': {
      const values = resolvePath(resource, filter.path);
      const caseExact = CASE_EXACT.has((filter.path.sub ?? filter.path.attr).toLowerCase());
      if (values.length === 0) return compare(undefined, filter.op, filter.value, caseExact);
      if (filter.op === 'ne') return values.every((v) => compare(v, 'ne', filter.value, caseExact));
      return values.some((v) => compare(v, filter.op, filter.value, caseExact));
    }
    case 'valuePath': {
      const base = filter.path.urn ? getAttr(resource, filter.path.urn) : resource;
      const top = getAttr(base, filter.path.attr);
      const items = Array.isArray(top) ? top : top === undefined ? [] : [top];
      return items.some((item) => matches(item, filter.filter));
    }
  }
}

/**
 * The equality constraints a filter imposes on a single attribute, when every resource it
 * matches must carry one of them: `userName eq "a"`, `userName eq "a" and active eq true`,
 * `userName eq "a" or userName eq "b"`. Undefined when the filter does not narrow that attribute,
 * so the caller must scan. Used to turn filters into indexed lookups.
 */
export function equalityValues(filter: Filter, matchesPath: (p: AttrPath) => boolean): string[] | undefined {
  switch (filter.kind) {
    case 'compare':
      return filter.op === 'eq' && typeof filter.value === 'string' && matchesPath(filter.path) ? [filter.value] : undefined;
    case 'and':
      return equalityValues(filter.left, matchesPath) ?? equalityValues(filter.right, matchesPath);
    case 'or': {
      const l = equalityValues(filter.left, matchesPath);
      const r = equalityValues(filter.right, matchesPath);
      return l && r ? [...l, ...r] : undefined;
    }
    case 'valuePath': {
      // emails[value eq "x"] narrows emails.value.
      const inner = equalityValues(filter.filter, (p) => !p.sub && matchesPath({ ...(filter.path.urn ? { urn: filter.path.urn } : {}), attr: filter.path.attr, sub: p.attr }));
      return inner;
    }
    default:
      return undefined;
  }
}
