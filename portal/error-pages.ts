// What the browser sees when something fails: a page in the portal's look that says what to do,
// never a stack trace. A refused write that a screen did not handle itself still explains why.
import type { FastifyInstance } from 'fastify';
import { html } from '../ui/html.ts';
import type { PortalContext } from './context.ts';
import { PortalWriteError } from './organization.ts';
import { notice, publicPage, sendHTML } from './views/frame.ts';

const wantsJSON = (accept: string | undefined) => !!accept && accept.includes('application/json') && !accept.includes('text/html');

export function registerErrorPages(app: FastifyInstance, ctx: PortalContext): void {
  app.setNotFoundHandler(async (req, reply) => {
    if (wantsJSON(req.headers.accept) || req.url.startsWith('/api/')) return reply.code(404).send({ error: 'not_found' });
    return sendHTML(reply, publicPage('Page not found', html`<p>There is no such page. <a href="/">Go to the overview</a>.</p>`), 404);
  });
  app.setErrorHandler(async (err, req, reply) => {
    if (err instanceof PortalWriteError) {
      const status = err.kind === 'conflict' ? 409 : err.kind === 'invalid' ? 422 : err.kind === 'read-only' || err.kind === 'forbidden' ? 403 : err.kind === 'not-found' ? 404 : 503;
      if (wantsJSON(req.headers.accept)) return reply.code(status).send({ error: err.kind, message: err.message, fields: err.fields });
      return sendHTML(reply, publicPage('Not saved', html`${notice('error', err.message)}<p><a href="/">Back to the overview</a></p>`), status);
    }
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
    if (status >= 500) ctx.log.error({ err, url: req.routeOptions.url }, 'portal request failed');
    const message = status === 429 ? 'Too many requests: wait a minute and try again.' : status === 413 ? 'The upload is too large (at most 1 MiB).' : status < 500 ? 'The request was not understood. Go back and try again.' : 'Something went wrong on our side. Nothing was changed; try again in a minute.';
    if (wantsJSON(req.headers.accept) || req.url.startsWith('/api/')) return reply.code(status).send({ error: status === 429 ? 'rate_limited' : status < 500 ? 'invalid_request' : 'internal_error', message });
    return sendHTML(reply, publicPage(status === 429 ? 'Slow down' : 'Something went wrong', notice('error', message)), status);
  });
}
