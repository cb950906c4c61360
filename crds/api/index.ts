// The Gatehouse API (sso.gatehouse.dev/v1alpha1): zod schemas, TypeScript types and CRD metadata.
export * from './common.ts';
export * from './kinds.ts';
export * from './managed-group.ts';
export * from './managed-user.ts';
export * from './sso-profile.ts';
export * from './verified-domain.ts';
