// bench:login's client: SAML responses for one login each at a fraction of the fixture's cost.
// buildResponse (xml-crypto over xmldom, the PEM parsed per signature) costs the client 12–15 ms
// of CPU per response on the 2-core machine — twice the server's whole login — and on shared
// cores that starves the server it measures. Here the fixture builds and signs one response with
// marker values; its canonical forms (assertion, response, both SignedInfos) are taken once with
// xml-crypto, and each login only substitutes its values into them, hashes, and signs the two
// SignedInfos with a prepared key. The documents are the fixture's byte for byte apart from the
// per-login values, digests and signatures; the sp-server checks every one as usual.
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { buildResponse, type ResponseOptions, type TestKeyPair } from '../test/support/saml-fixtures.ts';
import { NS } from '../sp-server/saml/uris.ts';

/** What changes per login. */
export interface LoginValues {
  inResponseTo: string;
  nameID: string;
  assertionID: string;
  responseID: string;
}

const MARKERS: LoginValues = {
  inResponseTo: '_00000000inresponsetomarker000000000000000',
  nameID: 'nameidmarker@acme.test',
  assertionID: '_00000000assertionidmarker0000000000000000',
  responseID: '_00000000responseidmarker00000000000000000',
};

const c14n = new ExclusiveCanonicalization();
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64');
const text = (el: Element, ns: string, name: string) => el.getElementsByTagNameNS(ns, name)[0]?.textContent ?? '';

function child(parent: Element, ns: string, name: string): Element {
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) if (n.nodeType === 1 && (n as Element).localName === name && (n as Element).namespaceURI === ns) return n as Element;
  throw new Error(`template: no ${name} under ${parent.localName}`);
}

interface SignedPart {
  /** Canonical form of the signed element without its Signature, markers in. */
  canonical: string;
  /** Canonical SignedInfo, with the template's DigestValue (its Reference URI names the marker ID). */
  signedInfo: string;
  digest: string;
  signature: string;
}

/** A response template for `options` (5 attribute values, both signatures by default), valid for a while from `now`. */
export class ResponseTemplate {
  private readonly key;
  private readonly xml: string;
  private readonly assertion: SignedPart;
  private readonly response: SignedPart;

  private constructor(signer: TestKeyPair, xml: string, assertion: SignedPart, response: SignedPart) {
    this.key = createPrivateKey(signer.privateKeyPem);
    this.xml = xml;
    this.assertion = assertion;
    this.response = response;
  }

  static async build(signer: TestKeyPair, options: Omit<ResponseOptions, 'signer' | 'signResponse' | 'signAssertion' | keyof LoginValues>): Promise<ResponseTemplate> {
    const { xml } = await buildResponse({ ...options, ...MARKERS, signer, signResponse: true, signAssertion: true });
    const part = (el: Element): SignedPart => {
      const signature = child(el, NS.ds, 'Signature');
      const signedInfo = c14n.process(child(signature, NS.ds, 'SignedInfo') as never, {});
      const out = { signedInfo, digest: text(signature, NS.ds, 'DigestValue'), signature: text(signature, NS.ds, 'SignatureValue'), canonical: '' };
      el.removeChild(signature);
      out.canonical = c14n.process(el as never, {});
      return out;
    };
    // The assertion's canonical form without its own signature; the response's with the assertion's in it.
    const forAssertion = new DOMParser().parseFromString(xml, 'text/xml').documentElement as unknown as Element;
    const assertion = part(child(forAssertion, NS.saml, 'Assertion'));
    const forResponse = new DOMParser().parseFromString(xml, 'text/xml').documentElement as unknown as Element;
    const response = part(forResponse);
    const publicKey = createPublicKey(signer.certificatePem);
    for (const p of [assertion, response]) {
      if (!xml.includes(p.signature) || sha256(p.canonical) !== p.digest || !verify('sha256', Buffer.from(p.signedInfo), publicKey, Buffer.from(p.signature, 'base64'))) {
        throw new Error('template: the canonical forms taken here do not reproduce the fixture\'s digest and signature');
      }
    }
    return new ResponseTemplate(signer, xml, assertion, response);
  }

  /** The base64 SAMLResponse for one login: markers replaced, both parts hashed and signed again. */
  render(values: LoginValues): string {
    const fill = (s: string) => (Object.keys(MARKERS) as Array<keyof LoginValues>).reduce((acc, k) => acc.split(MARKERS[k]).join(values[k]), s);
    const assertionDigest = sha256(fill(this.assertion.canonical));
    const assertionSignature = sign('sha256', Buffer.from(fill(this.assertion.signedInfo).replace(this.assertion.digest, assertionDigest)), this.key).toString('base64');
    const swapAssertion = (s: string) => s.replace(this.assertion.digest, assertionDigest).replace(this.assertion.signature, assertionSignature);
    const responseDigest = sha256(swapAssertion(fill(this.response.canonical)));
    const responseSignature = sign('sha256', Buffer.from(fill(this.response.signedInfo).replace(this.response.digest, responseDigest)), this.key).toString('base64');
    const xml = swapAssertion(fill(this.xml)).replace(this.response.digest, responseDigest).replace(this.response.signature, responseSignature);
    return Buffer.from(xml, 'utf8').toString('base64');
  }
}
