import { describe, expect, it } from 'vitest';
import { FIELD_MANAGER } from './organization.ts';
import { editedSpec, portalOwnedSpec, unappliedChanges, type SpecObject } from './owned-fields.ts';

const user = (managedFields: unknown[], spec: Record<string, unknown>): SpecObject => ({ metadata: { name: 'u', managedFields }, spec });

const stored = user(
  [
    { manager: FIELD_MANAGER, operation: 'Apply', fieldsV1: { 'f:spec': { 'f:email': {}, 'f:displayName': {}, 'f:roles': { 'v:"viewer"': {} } } } },
    { manager: 'directory-sync', operation: 'Update', fieldsV1: { 'f:spec': { 'f:roles': { 'v:"directory"': {} }, 'f:active': {} } } },
    { manager: 'gatehouse-operator', operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:sso': {} } } },
  ],
  { email: 'a@example.com', displayName: 'A', roles: ['directory', 'viewer'], active: true, sso: 'Inherit' },
);

describe('spec edits by server-side apply', () => {
  it('re-applies exactly what the portal owns, set elements included', () => {
    expect(portalOwnedSpec(stored)).toEqual({ email: 'a@example.com', displayName: 'A', roles: ['viewer'] });
    expect(portalOwnedSpec(user([], { email: 'x@example.com' }))).toEqual({});
  });

  it('puts the change on top and drops a field set to undefined', () => {
    expect(editedSpec(stored, { sso: 'Enabled', displayName: undefined })).toEqual({ email: 'a@example.com', roles: ['viewer'], sso: 'Enabled' });
    expect(editedSpec(undefined, { email: 'n@example.com' })).toEqual({ email: 'n@example.com' });
  });

  it('names the manager holding what the stored object does not carry as asked', () => {
    expect(unappliedChanges(stored, { roles: ['viewer', 'directory'], sso: 'Inherit' })).toEqual([]);
    expect(unappliedChanges(stored, { roles: ['viewer'] })).toEqual([{ field: 'spec.roles', message: 'also set by directory-sync, which the portal does not override' }]);
  });
});
