// What a later apply by the portal must carry: exactly the fields the portal's earlier applies own.
import { describe, expect, it } from 'vitest';
import { deepMerge, ownedBy } from './owned-fields.ts';

const profile = {
  apiVersion: 'sso.gatehouse.dev/v1alpha1',
  kind: 'SSOProfile',
  metadata: {
    name: 'okta',
    annotations: { 'sso.gatehouse.dev/renew-test-link': '1', 'argocd.argoproj.io/tracking-id': 'x' },
    managedFields: [
      { manager: 'gatehouse-portal', operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:sso.gatehouse.dev/renew-test-link': {} } }, 'f:spec': { 'f:displayName': {}, 'f:domains': { 'v:"acme.com"': {} }, 'f:idp': { 'f:metadata': { 'f:url': {} } } } } },
      { manager: 'argocd-controller', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:domains': { 'v:"acme.io"': {} }, 'f:enforcement': { '.': {}, 'f:domains': {} } } } },
      { manager: 'gatehouse-portal', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:test': {} } } },
      { manager: 'kube-apiserver', operation: 'Update', fieldsV1: { 'f:spec': { 'f:idp': { 'f:metadata': { 'f:refreshInterval': {} } } } } },
    ],
  },
  spec: { displayName: 'Okta', domains: ['acme.com', 'acme.io'], idp: { metadata: { url: 'https://okta.example/metadata', refreshInterval: '1h' } }, enforcement: { domains: ['acme.com'] } },
};

describe('ownedBy', () => {
  it('keeps the portal\'s applied fields and set members, leaves out the fields other managers own', () => {
    expect(ownedBy(profile, 'gatehouse-portal')).toEqual({
      spec: { displayName: 'Okta', domains: ['acme.com'], idp: { metadata: { url: 'https://okta.example/metadata' } } },
      metadata: { annotations: { 'sso.gatehouse.dev/renew-test-link': '1' } },
    });
  });

  it('owns nothing for a manager that never applied', () => {
    expect(ownedBy(profile, 'someone-else')).toEqual({});
  });

  it('merges a change over the owned fields, replacing lists', () => {
    expect(deepMerge({ spec: { domains: ['a.com'], idp: { entityID: 'x' } } }, { spec: { domains: ['b.com'], test: { email: 't@b.com' } } })).toEqual({ spec: { domains: ['b.com'], idp: { entityID: 'x' }, test: { email: 't@b.com' } } });
  });
});
