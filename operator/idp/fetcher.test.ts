// The metadata fetcher and its cache: the installation's URL policy (https, no private addresses),
// bounded fetches, and a cache that keeps the last accepted document when a refresh fails or is
// refused, refreshes no faster than the floor, and fetches at once when asked.
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idpKeyPair, metadataXml, signMetadata } from '../../test/support/idp-fixtures.ts';
import { waitFor } from '../../test/support/wait.ts';
import { fetchMetadata, isPrivateAddress, MetadataCache } from './fetcher.ts';

describe('isPrivateAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0'])('refuses %s', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });
  it.each(['8.8.8.8', '140.82.112.3', '2606:4700::1111'])('allows %s', (a) => {
    expect(isPrivateAddress(a)).toBe(false);
  });
});

describe('fetchMetadata', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200);
        res.end('x'.repeat(5000));
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000).unref();
      } else if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
      } else {
        res.writeHead(200, { etag: '"v1"' }).end('<xml/>');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (addr && typeof addr === 'object') base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses loopback unless allowed', async () => {
    await expect(fetchMetadata(`${base}/`, { timeoutMs: 1000, maxBytes: 1024, allowPrivate: false, allowInsecure: true })).rejects.toMatchObject({ code: 'Refused' });
    await expect(fetchMetadata(`http://localhost:${new URL(base).port}/`, { timeoutMs: 1000, maxBytes: 1024, allowPrivate: false, allowInsecure: true })).rejects.toMatchObject({ code: 'Refused' });
  });

  it('uses conditional requests, and limits size and time', async () => {
    const o = { timeoutMs: 500, maxBytes: 1024, allowPrivate: true, allowInsecure: true };
    const first = await fetchMetadata(`${base}/`, o);
    expect(first).toMatchObject({ notModified: false, body: '<xml/>', etag: '"v1"' });
    expect(await fetchMetadata(`${base}/`, { ...o, etag: '"v1"' })).toEqual({ notModified: true });
    await expect(fetchMetadata(`${base}/big`, o)).rejects.toMatchObject({ code: 'TooLarge' });
    await expect(fetchMetadata(`${base}/slow`, o)).rejects.toMatchObject({ code: 'Timeout' });
  });
});

describe('the https-only policy', () => {
  it('refuses a plain http:// URL without sending anything unless the installation allows it', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('<xml/>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      const o = { timeoutMs: 1000, maxBytes: 1024, allowPrivate: true };
      await expect(fetchMetadata(url, { ...o, allowInsecure: false })).rejects.toMatchObject({ code: 'Refused', message: expect.stringMatching(/plain http:\/\/.*--allow-insecure-metadata-urls/) });
      expect(requests).toBe(0);
      await expect(fetchMetadata(url, { ...o, allowInsecure: true })).resolves.toMatchObject({ body: '<xml/>' });
      expect(requests).toBe(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('MetadataCache', () => {
  const signer = idpKeyPair(3650, 'cache-signer.example.com');
  const trust = { signingCertificate: signer.certificatePem };
  let server: Server;
  let url = '';
  let body = '';
  const etags: (string | undefined)[] = [];
  const results: string[] = [];
  let cache: MetadataCache;

  beforeAll(async () => {
    server = createServer((req, res) => {
      etags.push(req.headers['if-none-match']);
      const etag = `"${body.length}-${body.includes('Signature') ? 's' : 'u'}"`;
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
      res.writeHead(200, { etag }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/md`;
    cache = new MetadataCache({ timeoutMs: 1000, maxBytes: 65536, allowPrivate: true, allowInsecure: true }, () => {}, (r) => results.push(r), pino({ level: 'silent' }));
  });
  afterAll(() => {
    cache.stop();
    server.closeAllConnections();
    server.close();
  });

  it('accepts signed metadata, keeps it when unsigned metadata is refused, and fetches at once when asked', async () => {
    body = signMetadata(metadataXml({ id: '_md', certificatePem: signer.certificatePem, ssoURL: 'https://idp.example.com/good' }), signer);
    // refreshMs 1: continuous fetching unless the floor clamps it.
    const source = { url, refreshMs: 1, trust, refreshRequest: 'a' };
    const first = await waitFor('accepted', async () => (cache.get('acme/okta', source).descriptor ? cache.get('acme/okta', source) : undefined), 5000);
    expect(first.descriptor?.ssoURL).toBe('https://idp.example.com/good');
    const goodEtag = first.etag;
    await new Promise((r) => setTimeout(r, 300));
    expect(etags).toHaveLength(1);

    // The IdP now serves unsigned metadata: refused, and nothing of it is kept (not even its ETag).
    body = metadataXml({ id: '_md', ssoURL: 'https://evil.example/sso' });
    const refused = await waitFor('refused', async () => {
      const st = cache.get('acme/okta', { ...source, refreshRequest: 'b' });
      return st.lastErrorReason ? st : undefined;
    }, 5000);
    expect(refused).toMatchObject({ lastErrorReason: 'MetadataUnsigned', etag: goodEtag });
    expect(refused.descriptor?.ssoURL).toBe('https://idp.example.com/good');
    expect(results).toContain('rejected');
    expect(etags.at(-1)).toBe(goodEtag);

    // Another certificate pinned: the copy accepted under the old one is not carried over.
    expect(cache.get('acme/okta', { ...source, refreshRequest: 'b', trust: { signingCertificate: idpKeyPair().certificatePem } }).descriptor).toBeUndefined();
  });
});
