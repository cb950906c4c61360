// What one operator status write looks like on the wire, whichever transport carried it: the
// client tests of undici and of the HTTP/2 session check the same request with this.
import { expect } from 'vitest';
import { FIELD_MANAGER } from '../../operator/context.ts';

export interface WrittenRequest {
  method: string;
  /** Path and query as the server received them. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** alice's status in acme, `{ sso: { enforced: true } }`, by server-side apply on /status with the operator's field manager and force. */
export function expectAliceStatusWrite(req: WrittenRequest): void {
  expect(req.method).toBe('PATCH');
  const url = new URL(req.url, 'http://x');
  expect(url.pathname).toBe('/apis/sso.gatehouse.dev/v1alpha1/namespaces/acme/managedusers/alice/status');
  expect(url.searchParams.get('fieldManager')).toBe(FIELD_MANAGER);
  expect(url.searchParams.get('force')).toBe('true');
  expect(req.headers['content-type']).toBe('application/apply-patch+yaml');
  expect(req.headers.authorization).toBe('Bearer secret-token');
  expect(JSON.parse(req.body)).toEqual({
    apiVersion: 'sso.gatehouse.dev/v1alpha1',
    kind: 'ManagedUser',
    metadata: { name: 'alice', namespace: 'acme' },
    status: { sso: { enforced: true } },
  });
}
