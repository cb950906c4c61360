// The Gatehouse API (sso.gatehouse.dev/v1alpha1) and the rendered config the operator hands the
// sp-server: zod schemas, TypeScript types, defaults and CRD metadata.
export * from './common.ts';
export * from './defaults.ts';
export * from './duration.ts';
export * from './kinds.ts';
export * from './managed-group.ts';
export * from './managed-user.ts';
export * from './oidc.ts';
export * from './rendered-config.ts';
export * from './sso-profile.ts';
export * from './verified-domain.ts';
