// How a failed request is answered: a browser gets a page (the app's default), an API client a
// JSON error in the OAuth shape (RFC 6749 §5.2). Each surface picks one for its encapsulated
// context, so no handler needs to know another surface's URLs.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { errorPage } from './html.ts';
import { html } from './http-util.ts';

function statusOf(err: FastifyError, req: FastifyRequest): number {
  const status = err.statusCode ?? 500;
  if (status >= 500) req.log.error({ err }, 'request failed');
  return status;
}

export function htmlErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(err)) return html(reply, 400, errorPage('Bad request', 'The request is missing something or is malformed.'));
  const status = statusOf(err, req);
  return html(reply, status, errorPage(status >= 500 ? 'Something went wrong' : 'Bad request', status >= 500 ? 'Please try again in a moment.' : 'The request could not be processed.'));
}

export function jsonErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(err)) return reply.code(400).send({ error: 'invalid_request', error_description: 'invalid parameters' });
  const status = statusOf(err, req);
  return reply.code(status).send({ error: status >= 500 ? 'server_error' : 'invalid_request' });
}
