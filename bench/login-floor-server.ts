// The HTTP floor of bench:login: a bare node:http server that answers the three requests of a
// login with responses of the sizes the sp-server sends (a 302 to the IdP with a cookie, a 303 to
// the application, the token JSON), reading each request in full and doing nothing else.
//   node bench/login-floor-server.ts PORT LOCATION_BYTES TOKEN_JSON_BYTES
import { createServer } from 'node:http';

const [port, locationBytes, tokenBytes] = process.argv.slice(2).map(Number) as [number, number, number];
const location = `https://idp.acme.test/saml/sso?SAMLRequest=${'x'.repeat(Math.max(0, locationBytes - 45))}`;
const token = JSON.stringify({ access_token: 'a'.repeat(Math.max(0, tokenBytes - 20)) });
const cookie = `gh_browser=${'c'.repeat(43)}; Path=/; HttpOnly; Max-Age=1800; SameSite=Lax`;

createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    if (req.url?.startsWith('/authorize')) res.writeHead(302, { location, 'set-cookie': cookie, 'cache-control': 'no-store', 'content-length': 0 }).end();
    else if (req.url === '/acs') res.writeHead(303, { location: 'http://127.0.0.1:1/callback?code=c&state=s&iss=i', 'cache-control': 'no-store', 'content-length': 0 }).end();
    else res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(token) }).end(token);
  });
}).listen(port, '127.0.0.1', () => console.log('listening'));
