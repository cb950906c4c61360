// Property-based fuzzing of the SAML validator: mutations of validly signed responses and random
// XML never crash it, never take more than a bounded time, and are never accepted with claims
// other than the ones the IdP signed.
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_TEST_TIMEOUT_MS, fuzzParams, withinWorkBound } from '../../test/support/fuzz.ts';
import { buildResponse, injectCommentInNameID, testProfile, toBase64, withDoctype, wrap, type BuiltResponse, type ResponseOptions, type WrappingShape } from '../../test/support/saml-fixtures.ts';
import { REFUSALS } from '../refusals.ts';
import { ACS_BODY_LIMIT_BYTES } from './acs-body-limit.ts';
import { SamlValidationError } from './errors.ts';
import { NS } from './uris.ts';
import { memoryReplayCache, validateSamlResponse, type ValidatedAssertion } from './validate.ts';

const profile = testProfile();
const NOW = new Date();

/** Every shape of signing a real IdP uses: the response, the assertion, both, Entra's default namespaces. */
const SHAPES = {
  responseSigned: {},
  assertionSigned: { signResponse: false, signAssertion: true },
  bothSigned: { signAssertion: true },
  entraDefaultNamespace: { signResponse: false, signAssertion: true, defaultNamespace: true, attributes: 8 },
} satisfies Record<string, ResponseOptions>;
type Shape = keyof typeof SHAPES;
const SHAPE_NAMES = Object.keys(SHAPES) as Shape[];
const bases = {} as Record<Shape, BuiltResponse>;
const claims = {} as Record<Shape, string>;

/** What a login is made of: a mutation that changes any of it must never be accepted. */
const claimsOf = (v: ValidatedAssertion): string =>
  JSON.stringify({ issuer: v.issuer, nameID: v.nameID, format: v.nameIDFormat, session: v.sessionIndex, id: v.assertionID, irt: v.inResponseTo, until: v.notOnOrAfter.getTime(), attributes: v.attributes });

const validate = (base64: string, shape: Shape) =>
  validateSamlResponse(base64, { profile, expectedInResponseTo: bases[shape].inResponseTo, replay: memoryReplayCache(), now: NOW });

beforeAll(async () => {
  for (const shape of SHAPE_NAMES) {
    bases[shape] = await buildResponse({ now: NOW, ...SHAPES[shape] });
    claims[shape] = claimsOf(await validate(bases[shape].base64, shape));
  }
}, FUZZ_TEST_TIMEOUT_MS);

/** Refused with a code from the refusal table, or accepted with exactly the signed claims; in bounded time. */
async function checkOutcome(base64: string, shape: Shape, what: string): Promise<'accepted' | 'refused'> {
  const r = await withinWorkBound(() => validate(base64, shape), what);
  if (r.ok) {
    expect(claimsOf(r.value), `${what} was accepted with other claims`).toBe(claims[shape]);
    return 'accepted';
  }
  expectRefusal(r.error);
  return 'refused';
}

function expectRefusal(err: unknown): void {
  if (!(err instanceof SamlValidationError)) throw new Error(`not a SamlValidationError: ${String(err)}`, { cause: err });
  expect(Object.keys(REFUSALS)).toContain(err.code);
}

// --- mutations -------------------------------------------------------------------------------

/** Parses strictly (an earlier mutation may have broken the document: then it throws, quietly). */
const parse = (xml: string): Document =>
  new DOMParser({
    onError: (level: string, message: string) => {
      throw new Error(`${level}: ${message}`);
    },
  }).parseFromString(xml, 'text/xml');
const wellFormed = (xml: string): boolean => {
  try {
    parse(xml);
    return true;
  } catch {
    return false;
  }
};
const serialize = (doc: Document): string => new XMLSerializer().serializeToString(doc);
const elementsOf = (doc: Document): Element[] => Array.from(doc.getElementsByTagName('*'));
const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

const PREFIXES = ['samlp', 'saml', 'ds', 'xs', 'xsi', 'x', ''];
const NAMESPACES = [NS.samlp, NS.saml, NS.ds, NS.xsi, NS.xenc, 'urn:evil', ''];
const ATTRIBUTE_NAMES = ['ID', 'Id', 'id', 'Version', 'Destination', 'InResponseTo', 'Recipient', 'NotOnOrAfter', 'NotBefore', 'Method', 'Format', 'Name', 'Value', 'URI', 'Algorithm', 'xmlns', 'xmlns:saml', 'xmlns:samlp', 'xmlns:ds', 'xsi:nil'];
const SNIPPETS = [
  '<saml:Assertion ID="_evil" Version="2.0"><saml:Issuer>https://idp.acme.test/saml/metadata</saml:Issuer></saml:Assertion>',
  '<saml:NameID>mallory@acme.test</saml:NameID>',
  '<saml:Audience>https://evil.test</saml:Audience>',
  '<saml:AttributeStatement><saml:Attribute Name="groups"><saml:AttributeValue>admins</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>',
  '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature>',
  '<saml:EncryptedAssertion/>',
  '<samlp:Extensions><saml:Assertion ID="_x"/></samlp:Extensions>',
  '<x:Any xmlns:x="urn:evil" ID="_dup"/>',
  '<!-- a comment -->',
  '<![CDATA[mallory]]>',
  '&amp;&lt;&#x41;',
  '&xxe;',
  '<?pi target?>',
  '\n  \t',
];
const WRAPPING: WrappingShape[] = [
  'XSW1-response-clone-wraps-original', 'XSW2-response-detached-original', 'XSW3-evil-assertion-before-signed', 'XSW4-evil-assertion-wraps-signed',
  'XSW5-signature-moved-to-evil-copy', 'XSW6-signed-inside-signature-of-evil', 'XSW7-signed-in-extensions', 'XSW8-signed-in-signature-object', 'evil-assertion-reuses-signed-id',
];
const DOCTYPES = [
  '<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
  '<!DOCTYPE samlp:Response SYSTEM "http://127.0.0.1:1/dtd">',
  '<!ELEMENT x ANY>',
  '<!doctype html>',
];

type Mutation = (xml: string) => string;

/** A mutation that prints as what it does in a counterexample. */
const named = (label: string, fn: Mutation): Mutation => Object.assign(fn, { toString: () => label });

/** A structural edit through the DOM; an earlier mutation may have broken well-formedness, then the text stays as it is. */
function viaDom(xml: string, edit: (doc: Document) => void): string {
  let doc: Document;
  try {
    doc = parse(xml);
  } catch {
    return xml;
  }
  edit(doc);
  return serialize(doc);
}

/** Replaces characters at arbitrary positions (bytes of the signed content included). */
const byteFlips = fc.array(fc.tuple(fc.nat(), fc.constantFrom('<', '>', '"', "'", '=', '/', ':', ' ', 'a', 'A', '0', '&', '\u0000', '\u00e9', '\ud83d')), { minLength: 1, maxLength: 4 })
  .map((flips): Mutation => named(`flip ${JSON.stringify(flips)}`, (xml) => flips.reduce((s, [at, ch]) => { const i = at % s.length; return s.slice(0, i) + ch + s.slice(i + 1); }, xml)));

/** Inserts a snippet after an arbitrary tag end. */
const insertSnippet = fc.tuple(fc.nat(), fc.constantFrom(...SNIPPETS)).map(([at, snippet]): Mutation => named(`insert ${JSON.stringify(snippet)} after tag end #${at}`, (xml) => {
  const ends = [...xml.matchAll(/>/g)].map((m) => m.index + 1);
  const i = pick(ends, at);
  return xml.slice(0, i) + snippet + xml.slice(i);
}));

const removeElement = fc.nat().map((k): Mutation => named(`remove element #${k}`, (xml) => viaDom(xml, (doc) => {
  const el = pick(elementsOf(doc), k);
  if (el.parentNode !== null && el !== doc.documentElement) el.parentNode.removeChild(el);
})));

/** Clones one element under another (itself, its parent, anywhere): duplication, wrapping, moving. */
const duplicateElement = fc.tuple(fc.nat(), fc.nat(), fc.boolean()).map(([k, target, before]): Mutation => named(`copy element #${k} ${before ? 'before' : 'into'} #${target}`, (xml) => viaDom(xml, (doc) => {
  const all = elementsOf(doc);
  const el = pick(all, k);
  const into = pick(all, target);
  const copy = el.cloneNode(true);
  if (before && into.parentNode !== null && into !== doc.documentElement) into.parentNode.insertBefore(copy, into);
  else into.appendChild(copy);
})));

const setAttribute = fc.tuple(fc.nat(), fc.constantFrom(...ATTRIBUTE_NAMES), fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...NAMESPACES)), fc.boolean()).map(([k, name, value, remove]): Mutation => named(`${remove ? `remove ${name}` : `set ${name}=${JSON.stringify(value)}`} on element #${k}`, (xml) => viaDom(xml, (doc) => {
  const el = pick(elementsOf(doc), k);
  if (remove) el.removeAttribute(name);
  else el.setAttribute(name, value);
})));

/** Rebinds or renames prefixes: the same local name in another namespace, or another prefix for the same one. */
const namespaceGame = fc.tuple(fc.nat(), fc.constantFrom(...PREFIXES), fc.constantFrom(...NAMESPACES), fc.boolean()).map(([k, prefix, ns, renameOnly]): Mutation => named(renameOnly ? `prefix ${prefix} on start tag #${k}` : `declare ${prefix}=${ns} on start tag #${k}`, (xml) => {
  const ends = [...xml.matchAll(/<([A-Za-z]+:)?[A-Za-z]+/g)];
  const m = pick(ends, k);
  if (renameOnly) {
    const name = m[0].slice(1).split(':').pop() as string;
    const renamed = `<${prefix === '' ? '' : `${prefix}:`}${name}`;
    return xml.slice(0, m.index) + renamed + xml.slice(m.index + m[0].length);
  }
  const declaration = ` ${prefix === '' ? 'xmlns' : `xmlns:${prefix}`}="${ns}"`;
  const at = m.index + m[0].length;
  return xml.slice(0, at) + declaration + xml.slice(at);
}));

const moveSignature = fc.tuple(fc.nat(), fc.nat()).map(([which, target]): Mutation => named(`move signature #${which} into element #${target}`, (xml) => viaDom(xml, (doc) => {
  const signatures = Array.from(doc.getElementsByTagNameNS(NS.ds, 'Signature'));
  if (signatures.length === 0) return;
  const sig = pick(signatures, which);
  sig.parentNode?.removeChild(sig);
  pick(elementsOf(doc), target).appendChild(sig);
})));

const wrapping = fc.constantFrom(...WRAPPING).map((shape): Mutation => named(`wrap ${shape}`, (xml) => {
  if (!wellFormed(xml)) return xml;
  try {
    return wrap(xml, shape);
  } catch {
    // The shape needs a signature this base does not have: wrap the other way round.
    try {
      return wrap(xml, 'XSW3-evil-assertion-before-signed');
    } catch {
      return xml;
    }
  }
}));

const commentInNameID = fc.nat({ max: 20 }).map((at): Mutation => named(`comment in NameID at ${at}`, (xml) => {
  if (!wellFormed(xml)) return xml;
  try {
    return injectCommentInNameID(xml, at);
  } catch {
    return xml;
  }
}));

const doctype = fc.oneof(
  fc.constant<Mutation>(named('XXE entity in NameID', (xml) => (wellFormed(xml) ? withDoctype(xml) : `<!DOCTYPE x>${xml}`))),
  fc.tuple(fc.constantFrom(...DOCTYPES), fc.boolean()).map(([decl, inside]): Mutation => named(`${decl} ${inside ? 'inside' : 'before'} the response`, (xml) => (inside ? xml.replace('<saml:Issuer>', `${decl}<saml:Issuer>`) : `${decl}${xml}`))),
);

/** Whitespace and comments between the Response's children: outside any signed content when only the assertion is signed. */
const whitespaceOutsideSigned = fc.tuple(fc.nat(), fc.constantFrom(' ', '\n', '\t\n  ', '<!-- x -->')).map(([k, ws]): Mutation => named(`${JSON.stringify(ws)} after the Response's child #${k}`, (xml) => {
  const ends = [...xml.matchAll(/<\/(?:saml:)?Issuer>|<\/samlp:Status>/g)].map((m) => m.index + m[0].length);
  if (ends.length === 0) return xml;
  const i = pick(ends, k);
  return xml.slice(0, i) + ws + xml.slice(i);
}));

const anyMutation = fc.oneof(byteFlips, insertSnippet, removeElement, duplicateElement, setAttribute, namespaceGame, moveSignature, wrapping, commentInNameID, doctype, whitespaceOutsideSigned);
const shapeArb = fc.constantFrom(...SHAPE_NAMES);

describe('validateSamlResponse under fuzzing', () => {
  it('refuses or accepts unchanged claims for any chain of mutations of a signed response, within the work bound', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.array(anyMutation, { minLength: 1, maxLength: 3 }), async (shape, mutations) => {
        const xml = mutations.reduce((s, m) => m(s), bases[shape].xml);
        if ((await checkOutcome(toBase64(xml), shape, 'a mutated response')) === 'accepted') accepted++;
      }),
      fuzzParams(300),
    );
    // Whitespace, comments and prefix-preserving re-serialisation are inert: some mutants pass.
    expect(accepted).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT_MS);

  it('never accepts a changed NameID, attribute value, audience, issuer or recipient', async () => {
    const targets: Array<[string, string, string]> = [
      [NS.saml, 'NameID', 'text'],
      [NS.saml, 'AttributeValue', 'text'],
      [NS.saml, 'Audience', 'text'],
      [NS.saml, 'Issuer', 'text'],
      [NS.saml, 'SubjectConfirmationData', 'Recipient'],
      [NS.saml, 'Conditions', 'NotOnOrAfter'],
      [NS.saml, 'Attribute', 'Name'],
    ];
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.constantFrom(...targets), fc.nat(), fc.string({ minLength: 1, maxLength: 40 }), async (shape, [ns, local, what], k, value) => {
        const doc = parse(bases[shape].xml);
        const el = pick(Array.from(doc.getElementsByTagNameNS(ns, local)), k);
        const before = what === 'text' ? el.textContent : el.getAttribute(what);
        fc.pre(before !== value && before?.trim() !== value.trim());
        if (what === 'text') {
          while (el.firstChild !== null) el.removeChild(el.firstChild);
          el.appendChild(doc.createTextNode(value));
        } else {
          el.setAttribute(what, value);
        }
        const r = await withinWorkBound(() => validate(toBase64(serialize(doc)), shape), `a changed ${local}`);
        expect(r.ok, `a changed ${local} ${what} was accepted`).toBe(false);
        if (!r.ok) expectRefusal(r.error);
      }),
      fuzzParams(150),
    );
  }, FUZZ_TEST_TIMEOUT_MS);

  it('refuses the largest documents the ACS accepts, many namespace declarations or elements and deep nesting included, within the work bound', async () => {
    const room = Math.floor((ACS_BODY_LIMIT_BYTES * 3) / 4) - 4096;
    const filler = fc.constantFrom(
      (n: number) => `<x:e xmlns:x="urn:x${n}"/>`,
      (n: number) => `<saml:AttributeValue>${'v'.repeat(n % 50)}</saml:AttributeValue>`,
      (n: number) => `<a b="${n}" c="1" d="2" e="3"/>`,
      (_n: number) => '<d>',
      (n: number) => `<!--${'c'.repeat(n % 100)}-->`,
    );
    await fc.assert(
      fc.asyncProperty(shapeArb, filler, fc.integer({ min: 1, max: 30 }), fc.boolean(), async (shape, make, scale, inAssertion) => {
        const target = Math.floor((room * scale) / 30);
        let body = '';
        for (let n = 0; body.length < target; n++) body += make(n);
        const base = bases[shape].xml;
        const anchor = inAssertion ? '<saml:Subject>' : '<samlp:Status>';
        const at = base.indexOf(anchor) >= 0 ? base.indexOf(anchor) : base.indexOf('<Subject>');
        const xml = base.slice(0, at) + body + base.slice(at);
        await checkOutcome(toBase64(xml), shape, `a ${xml.length}-byte response`);
      }),
      fuzzParams(24),
    );
  }, FUZZ_TEST_TIMEOUT_MS);

  it('refuses random XML shaped like SAML, within the work bound', async () => {
    const name = fc.tuple(fc.constantFrom(...PREFIXES), fc.constantFrom('Response', 'Assertion', 'Issuer', 'Status', 'StatusCode', 'Subject', 'NameID', 'Signature', 'SignedInfo', 'Reference', 'Conditions', 'Audience', 'EncryptedAssertion', 'x'))
      .map(([p, n]) => (p === '' ? n : `${p}:${n}`));
    const attribute = fc.tuple(fc.constantFrom(...ATTRIBUTE_NAMES), fc.oneof(fc.constantFrom(...NAMESPACES, '2.0', '_a', '#_a'), fc.string({ maxLength: 10 })))
      .map(([n, v]) => ` ${n}="${v.replace(/[&<"]/g, '')}"`);
    const { node } = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.string({ maxLength: 12 }).map((t) => t.replace(/[&<]/g, '')),
        fc.tuple(name, fc.array(attribute, { maxLength: 4 }), fc.array(tie('node'), { maxLength: 4 })).map(([n, attrs, kids]) => `<${n}${[...new Set(attrs)].join('')}>${kids.join('')}</${n}>`),
      ),
    }));
    const root = fc.tuple(fc.array(attribute, { maxLength: 4 }), fc.array(node, { maxLength: 5 }))
      .map(([attrs, kids]) => `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" xmlns:ds="${NS.ds}" Version="2.0"${[...new Set(attrs)].join('')}>${kids.join('')}</samlp:Response>`);
    await fc.assert(
      fc.asyncProperty(shapeArb, root, async (shape, xml) => {
        expect(await checkOutcome(toBase64(xml), shape, 'random XML')).toBe('refused');
      }),
      fuzzParams(300),
    );
  }, FUZZ_TEST_TIMEOUT_MS);

  it('refuses arbitrary parameters that are not base64 of a response', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.oneof(fc.string({ maxLength: 200 }), fc.base64String({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 }).map(toBase64)), async (shape, input) => {
        expect(await checkOutcome(input, shape, 'an arbitrary parameter')).toBe('refused');
      }),
      fuzzParams(300),
    );
  }, FUZZ_TEST_TIMEOUT_MS);
});
