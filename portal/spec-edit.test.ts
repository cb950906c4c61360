import { describe, expect, it } from 'vitest';
import { FIELD_MANAGER } from './organization.ts';
import { unappliedChanges, withSpecChanges, type SpecObject } from './spec-edit.ts';

const stored: SpecObject = {
  metadata: {
    name: 'u',
    managedFields: [
      { manager: FIELD_MANAGER, operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:email': {}, 'f:roles': { 'v:"viewer"': {} } } } },
      { manager: 'directory-sync', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:roles': { 'v:"directory"': {} }, 'f:active': {} } } },
    ],
  },
  spec: { email: 'a@example.com', roles: ['directory', 'viewer'], active: true, sso: 'Inherit' },
};

describe('spec edits', () => {
  it('puts the change on top of what the portal owns and drops a field set to undefined', () => {
    expect(withSpecChanges({ spec: { email: 'a@example.com', displayName: 'A' }, metadata: { labels: { x: 'y' } } }, { sso: 'Enabled', displayName: undefined })).toEqual({ spec: { email: 'a@example.com', sso: 'Enabled' }, metadata: { labels: { x: 'y' } } });
    expect(withSpecChanges({}, { email: 'n@example.com' })).toEqual({ spec: { email: 'n@example.com' } });
  });

  it('names the manager holding what the stored object does not carry as asked', () => {
    expect(unappliedChanges(stored, { roles: ['viewer', 'directory'], sso: 'Inherit' })).toEqual([]);
    expect(unappliedChanges(stored, { roles: ['viewer'] })).toEqual([{ field: 'spec.roles', message: 'also set by directory-sync, which the portal does not override' }]);
  });
});
