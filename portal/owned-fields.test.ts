// Reading a field manager's applied configuration back from managedFields: plain fields, atomic
// lists, sets (v:), map lists (k:), and only the manager's own Apply entry.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/informer.ts';
import { otherOwnersOf, ownedFields } from './owned-fields.ts';

const obj = (managedFields: unknown[]): KubeObject & { spec: unknown } => ({
  metadata: { name: 'okta', labels: { team: 'it', owned: 'yes' }, annotations: { a: '1' }, managedFields },
  spec: {
    domains: ['a.example', 'b.example'],
    idp: { entityID: 'https://idp', ssoURL: 'https://idp/sso' },
    roleMapping: { attribute: 'groups', rules: [{ value: 'eng', roles: ['dev'] }] },
    users: [{ email: 'x@a.example', role: 'admin' }, { email: 'y@a.example', role: 'viewer' }],
  },
});

describe('ownedFields', () => {
  it('returns exactly what the manager applied: fields, set members, atomic lists, map-list items', () => {
    const o = obj([
      { manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:idp': { 'f:ssoURL': {} } } } },
      { manager: 'gatehouse-portal', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:idp': { 'f:ssoURL': {} } } } },
      {
        manager: 'gatehouse-portal',
        operation: 'Apply',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:owned': {} } },
          'f:spec': {
            'f:domains': { 'v:"b.example"': {} },
            'f:idp': { '.': {}, 'f:entityID': {} },
            'f:roleMapping': { 'f:attribute': {}, 'f:rules': {} },
            'f:users': { 'k:{"email":"y@a.example"}': { '.': {}, 'f:role': {} } },
          },
        },
      },
    ]);
    expect(ownedFields(o)).toEqual({
      metadata: { labels: { owned: 'yes' } },
      spec: {
        domains: ['b.example'],
        idp: { entityID: 'https://idp' },
        roleMapping: { attribute: 'groups', rules: [{ value: 'eng', roles: ['dev'] }] },
        users: [{ email: 'y@a.example', role: 'viewer' }],
      },
    });
  });

  it('is empty for an object the manager never applied', () => {
    expect(ownedFields(obj([]))).toEqual({});
    expect(ownedFields(obj([{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:domains': {} } } }]))).toEqual({});
  });

  it('names the other managers of a field', () => {
    const o = obj([
      { manager: 'argocd-controller', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:roleMapping': { 'f:attribute': {} } } } },
      { manager: 'gatehouse-portal', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:roleMapping': {} } } },
      { manager: 'gatehouse-operator', operation: 'Apply', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:roleMapping': {} } } },
    ]);
    expect(otherOwnersOf(o, ['spec', 'roleMapping'])).toEqual(['argocd-controller']);
    expect(otherOwnersOf(o, ['spec', 'domains'])).toEqual([]);
  });
});
