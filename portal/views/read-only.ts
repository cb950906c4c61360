// The server side of a read-only (GitOps-managed) organization: disabled forms are a courtesy,
// this refusal is the rule. Every POST of a screen calls it before reading its input.
import type { FastifyRequest } from 'fastify';
import { PortalWriteError } from '../organization.ts';
import { portalOf } from '../session/request-session.ts';

export function refuseIfReadOnly(req: FastifyRequest): void {
  const { readOnly } = portalOf(req);
  if (readOnly) throw new PortalWriteError('read-only', readOnly);
}
