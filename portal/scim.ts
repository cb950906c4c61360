// SCIM for one organization, the portal's side: on/off is the namespace label the operator
// watches (the portal applies that one label and nothing else — an admission policy holds it to
// that), and the token is the Secret the operator creates. Rotation deletes the Secret; the
// operator creates a new one and the old token stops working at the next render.
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/informer.ts';
import { pathOf } from '../kube/resources.ts';
import { SCIM_ENABLED_LABEL, SCIM_ENABLED_VALUE, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from '../operator/scim-token.ts';
import { FIELD_MANAGER, PortalWriteError, writeErrorOf, type Organization } from './organization.ts';
import { otherOwnersOf } from './owned-fields.ts';

/** The sp-server's SCIM routes (sp-server/scim/plugin.ts SCIM_PREFIX). */
const SCIM_PATH = '/scim/v2';
/** How long a request waits for the operator to create the token Secret. */
export const TOKEN_WAIT_MS = 10_000;

interface Secret extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface ScimState {
  enabled: boolean;
  /** The namespace as read, for Events. */
  namespace: KubeObject;
  /** Whether a token Secret exists (its value is never part of the state). */
  tokenExists: boolean;
}

export function scimBaseURL(spServerURL: string, namespace: string): string {
  return `${spServerURL.replace(/\/$/, '')}${SCIM_PATH}/${namespace}/`;
}

export class OrganizationScim {
  private readonly kube: KubeClient;
  private readonly org: Organization;
  private readonly waitMs: number;

  constructor(kube: KubeClient, org: Organization, waitMs = TOKEN_WAIT_MS) {
    this.kube = kube;
    this.org = org;
    this.waitMs = waitMs;
  }

  private get namespacePath(): string {
    return pathOf('Namespace', undefined, this.org.namespace);
  }

  private async secret(): Promise<Secret | undefined> {
    try {
      return await this.kube.call<Secret>('GET', pathOf('Secret', this.org.namespace, SCIM_TOKEN_SECRET_NAME));
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  async state(): Promise<ScimState> {
    const [namespace, secret] = await Promise.all([this.kube.call<KubeObject>('GET', this.namespacePath), this.secret()]);
    return { enabled: namespace.metadata.labels?.[SCIM_ENABLED_LABEL] === SCIM_ENABLED_VALUE, namespace, tokenExists: !!secret };
  }

  private async refuseIfReadOnly(): Promise<void> {
    const { readOnly } = await this.org.describe();
    if (readOnly) throw new PortalWriteError('read-only', readOnly);
  }

  /**
   * Applies the label alone (on), or withdraws the portal's claim to it (off). Turning off when
   * another tool set the label leaves it on: that is reported, not overridden.
   */
  async setEnabled(enabled: boolean): Promise<KubeObject> {
    await this.refuseIfReadOnly();
    const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.org.namespace, ...(enabled ? { labels: { [SCIM_ENABLED_LABEL]: SCIM_ENABLED_VALUE } } : {}) } };
    let ns: KubeObject;
    try {
      ns = await this.kube.call<KubeObject>('PATCH', this.namespacePath, {
        body,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: FIELD_MANAGER, force: false },
        verb: 'apply',
        retries: 0,
      });
    } catch (err) {
      throw writeErrorOf(err, `the SCIM setting of ${this.org.namespace}`);
    }
    if (!enabled && ns.metadata.labels?.[SCIM_ENABLED_LABEL] === SCIM_ENABLED_VALUE) {
      const owners = otherOwnersOf(ns, ['metadata', 'labels', SCIM_ENABLED_LABEL]);
      throw new PortalWriteError(
        'conflict',
        `SCIM stays on: the label ${SCIM_ENABLED_LABEL} on the namespace is managed by ${owners.join(', ') || 'another tool'} (for example GitOps or kubectl). Turn SCIM off there, or ask the platform team.`,
        [{ field: `metadata.labels.${SCIM_ENABLED_LABEL}`, message: `also set by ${owners.join(', ') || 'another tool'}` }],
      );
    }
    return ns;
  }

  /** The token, once a Secret other than `notUid` holds a usable one; undefined after the wait. */
  async waitForToken(notUid?: string, waitMs = this.waitMs): Promise<{ token: string; uid: string } | undefined> {
    const until = Date.now() + waitMs;
    for (;;) {
      const secret = await this.secret();
      const token = tokenOfSecret(secret);
      if (secret && token && secret.metadata.uid !== notUid) return { token, uid: secret.metadata.uid ?? '' };
      if (Date.now() >= until) return undefined;
      await sleep(Math.min(250, Math.max(0, until - Date.now())));
    }
  }

  /** Deletes the token Secret (only the one read, by uid); returns its uid, or undefined when there was none. */
  async retireToken(): Promise<string | undefined> {
    await this.refuseIfReadOnly();
    const secret = await this.secret();
    const uid = secret?.metadata.uid;
    if (!secret) return undefined;
    try {
      await this.kube.call('DELETE', pathOf('Secret', this.org.namespace, SCIM_TOKEN_SECRET_NAME), { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid } }, retries: 0 });
    } catch (err) {
      // Deleted meanwhile, or replaced (the uid precondition failed): the token is new either way.
      if (!(err instanceof KubeApiError && (err.code === 404 || err.code === 409))) throw writeErrorOf(err, 'the SCIM token');
    }
    return uid;
  }
}
