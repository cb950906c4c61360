// The discovery endpoints (RFC 7644 §4): what this service provider supports and the schemas of
// its resources, so IdPs and SCIM validators can adapt to it.
import { MAX_ATTRIBUTE_VALUES, MAX_GROUP_MEMBERS, MAX_PATCH_OPERATIONS, MAX_PAYLOAD_BYTES, MAX_RESULTS } from './limits.ts';
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './schemas.ts';

export { MAX_RESULTS } from './limits.ts';

export function serviceProviderConfig(baseURL: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://gatehouse.dev/docs/scim',
    // RFC 7643 §5 has no place for PATCH limits; clients that read these extra fields can batch
    // under them, the others learn them from a 400 tooMany.
    patch: { supported: true, maxOperations: MAX_PATCH_OPERATIONS, maxGroupMembers: MAX_GROUP_MEMBERS, maxValuesPerAttribute: MAX_ATTRIBUTE_VALUES },
    // Bulk is not offered; maxPayloadSize is the body limit of every SCIM request (413 above it).
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: MAX_PAYLOAD_BYTES },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'The organization\'s SCIM token, from the Secret gatehouse-scim-token in its namespace.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseURL}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseURL: string) {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A ManagedUser of the organization',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseURL}/ResourceTypes/User` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A ManagedGroup of the organization',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseURL}/ResourceTypes/Group` },
    },
  ];
}

interface AttrDef {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: AttrDef[];
  referenceTypes?: string[];
  description?: string;
}

function attr(d: AttrDef): Required<Omit<AttrDef, 'subAttributes' | 'referenceTypes'>> & Pick<AttrDef, 'subAttributes' | 'referenceTypes'> {
  return {
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    description: d.name,
    ...d,
    ...(d.subAttributes ? { subAttributes: d.subAttributes.map(attr) } : {}),
  };
}

const multi = (name: string, description: string): AttrDef => ({
  name,
  type: 'complex',
  multiValued: true,
  description,
  subAttributes: [
    { name: 'value', type: 'string' },
    { name: 'display', type: 'string' },
    { name: 'type', type: 'string' },
    { name: 'primary', type: 'boolean' },
  ],
});

const userAttributes: AttrDef[] = [
  { name: 'userName', type: 'string', required: true, uniqueness: 'server', description: 'An email address in one of the organization\'s verified domains.' },
  {
    name: 'name',
    type: 'complex',
    subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map((n) => ({ name: n, type: 'string' })),
  },
  { name: 'displayName', type: 'string' },
  { name: 'nickName', type: 'string' },
  { name: 'title', type: 'string' },
  { name: 'userType', type: 'string' },
  { name: 'preferredLanguage', type: 'string' },
  { name: 'locale', type: 'string' },
  { name: 'timezone', type: 'string' },
  { name: 'active', type: 'boolean', description: 'false deprovisions the user: no login of any kind.' },
  multi('emails', 'Email addresses'),
  multi('phoneNumbers', 'Phone numbers'),
  multi('roles', 'Roles as the IdP sends them (Gatehouse application roles come from spec.roles and role mapping)'),
];

const enterpriseAttributes: AttrDef[] = [
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((n): AttrDef => ({ name: n, type: 'string' })),
  {
    name: 'manager',
    type: 'complex',
    subAttributes: [
      { name: 'value', type: 'string' },
      { name: '$ref', type: 'reference', referenceTypes: ['User'] },
      { name: 'displayName', type: 'string', mutability: 'readOnly' },
    ],
  },
];

const groupAttributes: AttrDef[] = [
  { name: 'displayName', type: 'string', required: true, uniqueness: 'server', description: 'The value SSOProfile role mapping matches.' },
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    subAttributes: [
      { name: 'value', type: 'string', mutability: 'immutable' },
      { name: '$ref', type: 'reference', referenceTypes: ['User'], mutability: 'immutable' },
      { name: 'type', type: 'string', mutability: 'immutable' },
    ],
  },
];

export function schemaDefinitions(baseURL: string) {
  const def = (id: string, name: string, description: string, attributes: AttrDef[]) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id,
    name,
    description,
    attributes: attributes.map(attr),
    meta: { resourceType: 'Schema', location: `${baseURL}/Schemas/${id}` },
  });
  return [
    def(USER_SCHEMA, 'User', 'User Account', userAttributes),
    def(ENTERPRISE_SCHEMA, 'EnterpriseUser', 'Enterprise User', enterpriseAttributes),
    def(GROUP_SCHEMA, 'Group', 'Group', groupAttributes),
  ];
}
