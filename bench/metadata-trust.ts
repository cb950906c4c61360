// What accepting an IdP's metadata costs the operator's event loop: parsing alone (the peer, what
// every fetch already paid) against parsing plus the signing-certificate check, for a typical
// document and for one at the element bound, and the time to refuse a hostile document unparsed.
// The floor is one RSA-2048 signature, measured in the same run.
//   npm run bench:metadata [-- --rounds 20]
// Goal: the signature check at most 2x parsing alone; a document at the bound well under 1 s.
import { createSign } from 'node:crypto';
import { parseArgs } from 'node:util';
import { METADATA_XML_BOUNDS, parseIdPMetadata } from '../operator/idp/metadata.ts';
import { acceptMetadata } from '../operator/idp/trust.ts';
import { idpKeyPair, metadataXml, signMetadata } from '../test/support/idp-fixtures.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
const WARM_UP = 3;

const signer = idpKeyPair(3650, 'bench-signer.example');
const trust = { signingCertificate: signer.certificatePem };
/** Signed metadata padded with `extra` elements, as an IdP's Extensions might be. */
const signedWith = (extra: number) =>
  signMetadata(
    metadataXml({ id: '_bench', certificatePem: signer.certificatePem }).replace('<md:IDPSSODescriptor ', `<md:Extensions>${'<md:X a="b"/>'.repeat(extra)}</md:Extensions><md:IDPSSODescriptor `),
    signer,
  );

function msPerOp(run: () => void): number {
  for (let i = 0; i < WARM_UP; i++) run();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) run();
  return (performance.now() - start) / rounds;
}

const floor = msPerOp(() => createSign('sha256').update('gatehouse').sign(signer.privateKeyPem));
console.log(`rounds ${rounds} after ${WARM_UP} warm-up each; floor (one RSA-2048 signature) ${floor.toFixed(2)} ms`);
for (const [name, extra] of [['typical', 0], ['at the element bound', METADATA_XML_BOUNDS.elements - 100]] as const) {
  const xml = signedWith(extra);
  const parse = msPerOp(() => parseIdPMetadata(xml));
  const accept = msPerOp(() => acceptMetadata(xml, trust, new Date()));
  console.log(`${name} (${xml.length} bytes): parse ${parse.toFixed(2)} ms, parse + signature ${accept.toFixed(2)} ms = ${(accept / parse).toFixed(2)}x parse, ${(accept / floor).toFixed(1)}x floor`);
}
const stuffed = signedWith(0).replace('<ds:SignedInfo>', `<ds:SignedInfo ${Array.from({ length: 16_000 }, (_, i) => `xmlns:p${i}="urn:x:${i}"`).join(' ')}>`);
const refuse = msPerOp(() => {
  try {
    acceptMetadata(stuffed, trust, new Date());
  } catch {
    return;
  }
  throw new Error('the stuffed SignedInfo was accepted');
});
console.log(`hostile SignedInfo with 16,000 namespace declarations (${stuffed.length} bytes): refused unparsed in ${refuse.toFixed(2)} ms`);
