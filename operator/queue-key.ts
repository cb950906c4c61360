// Typed work-queue keys: what a controller is asked to reconcile. The queue itself deduplicates
// by the encoded string, so one key per object is in flight at a time whoever queued it.
export type ObjectKind = 'VerifiedDomain' | 'ManagedUser' | 'SSOProfile';

/** A namespaced custom resource, one key per object. */
type ObjectKey<K extends ObjectKind> = { kind: K; namespace: string; name: string };

export type QueueKey =
  | ObjectKey<'VerifiedDomain'>
  | ObjectKey<'ManagedUser'>
  | ObjectKey<'SSOProfile'>
  /** An organization namespace's SCIM token. */
  | { kind: 'Namespace'; name: string }
  /** The rendered SP config: one for the whole operator. */
  | { kind: 'Config' };

export type QueueKind = QueueKey['kind'];
export type KeyOf<K extends QueueKind> = Extract<QueueKey, { kind: K }>;

export const queueKey = {
  verifiedDomain: (namespace: string, name: string): KeyOf<'VerifiedDomain'> => ({ kind: 'VerifiedDomain', namespace, name }),
  ssoProfile: (namespace: string, name: string): KeyOf<'SSOProfile'> => ({ kind: 'SSOProfile', namespace, name }),
  managedUser: (namespace: string, name: string): KeyOf<'ManagedUser'> => ({ kind: 'ManagedUser', namespace, name }),
  namespace: (name: string): KeyOf<'Namespace'> => ({ kind: 'Namespace', name }),
  config: { kind: 'Config' } as KeyOf<'Config'>,
};

/** The queue's identity of a key; object names never contain '/', so it decodes unambiguously. */
export function encodeKey(key: QueueKey): string {
  switch (key.kind) {
    case 'Config':
      return 'Config';
    case 'Namespace':
      return `Namespace/${key.name}`;
    default:
      return `${key.kind}/${key.namespace}/${key.name}`;
  }
}

export function decodeKey(encoded: string): QueueKey {
  const [kind = '', a = '', b = ''] = encoded.split('/');
  switch (kind) {
    case 'Config':
      return queueKey.config;
    case 'Namespace':
      return queueKey.namespace(a);
    case 'VerifiedDomain':
    case 'ManagedUser':
    case 'SSOProfile':
      return { kind, namespace: a, name: b };
    default:
      throw new Error(`not a queue key: ${encoded}`);
  }
}
