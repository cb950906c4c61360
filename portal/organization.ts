// Everything the portal reads and writes, scoped to the one organization (namespace) of a session.
// Writes are server-side applies by the field manager `gatehouse-portal` without force: a field
// another manager (GitOps, kubectl) owns is a conflict shown to the admin, never overwritten. The
// resourceVersion the admin saw travels with the apply, so an edit made meanwhile by anyone is a
// conflict too. Every change is recorded as an Event naming the portal user.
import type { Logger } from 'pino';
import { GROUP, VERSION } from '../crds/api/index.ts';
import { ORGANIZATION_DISPLAY_NAME_ANNOTATION } from '../crds/api/rendered-config.ts';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import { eventBody } from '../kube/events.ts';
import type { KubeObject } from '../kube/informer.ts';
import { pathOf, type ResourceKind } from '../kube/resources.ts';
import { ownedFields, type OwnedFields } from './owned-fields.ts';
import type { Actor } from './session/sessions.ts';

export const FIELD_MANAGER = 'gatehouse-portal';
/** On an organization's namespace: "true" makes the portal read-only there (Git is the source of truth). */
export const GITOPS_ANNOTATION = 'sso.gatehouse.dev/gitops-managed';
/** On an organization's namespace: the name its admins and users see. */
export const DISPLAY_NAME_ANNOTATION = ORGANIZATION_DISPLAY_NAME_ANNOTATION;

export type OrgKind = 'SSOProfile' | 'VerifiedDomain' | 'ManagedUser';

/** A field the API server refused, with its path as the server names it (e.g. spec.domains[0]). */
export interface FieldProblem {
  field: string;
  message: string;
}

/** The write was refused; `message` is for the admin, `fields` point at form fields. */
export class PortalWriteError extends Error {
  readonly kind: 'conflict' | 'invalid' | 'read-only' | 'forbidden' | 'not-found' | 'unavailable';
  readonly fields: FieldProblem[];
  constructor(kind: PortalWriteError['kind'], message: string, fields: FieldProblem[] = []) {
    super(message);
    this.name = 'PortalWriteError';
    this.kind = kind;
    this.fields = fields;
  }
}

export interface ApplyOptions {
  /** The resourceVersion the admin's form was rendered from: a later change makes the apply a conflict. */
  resourceVersion?: string | undefined;
  dryRun?: boolean;
}

interface StatusCause {
  field?: string;
  message?: string;
  reason?: string;
}

function causesOf(err: KubeApiError): StatusCause[] {
  const body = err.body as { details?: { causes?: StatusCause[] } } | undefined;
  return body?.details?.causes ?? [];
}

/** The API server's refusal in words an admin can act on. */
export function writeErrorOf(err: unknown, what: string): PortalWriteError {
  if (!(err instanceof KubeApiError)) return new PortalWriteError('unavailable', `Could not save ${what}: the cluster did not answer. Nothing was changed; try again.`);
  const causes = causesOf(err);
  if (err.code === 409 && causes.some((c) => c.reason === 'FieldManagerConflict')) {
    const owners = [...new Set(causes.map((c) => /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1]).filter((o): o is string => !!o))];
    const fields = causes.map((c) => ({ field: (c.field ?? '').replace(/^\./, ''), message: `also set by ${/conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? 'another tool'}` }));
    return new PortalWriteError(
      'conflict',
      `Not saved: ${fields.map((f) => f.field).join(', ')} ${fields.length === 1 ? 'is' : 'are'} managed by ${owners.join(', ') || 'another tool'} (for example GitOps or kubectl). Change ${fields.length === 1 ? 'it' : 'them'} there, or ask the platform team.`,
      fields,
    );
  }
  if (err.code === 409) return new PortalWriteError('conflict', `Not saved: ${what} was changed by someone else since you opened this page. Review the current values below and apply your change again.`);
  if (err.code === 422 || err.code === 400) {
    const fields = causes.map((c) => ({ field: (c.field ?? '').replace(/^\./, ''), message: c.message ?? 'invalid' }));
    return new PortalWriteError('invalid', fields.length ? fields.map((f) => `${f.field}: ${f.message}`).join('; ') : err.message, fields);
  }
  if (err.code === 403) return new PortalWriteError('forbidden', `Not saved: the portal may not change ${what} (${err.message}).`);
  if (err.code === 404) return new PortalWriteError('not-found', `${what} no longer exists.`);
  return new PortalWriteError('unavailable', `Could not save ${what} (${err.code} ${err.reason}). Nothing was changed; try again.`);
}

const API_VERSION = `${GROUP}/${VERSION}`;

export class Organization {
  readonly namespace: string;
  readonly actor: Actor;
  private readonly kube: KubeClient;
  private readonly log: Logger;

  constructor(kube: KubeClient, log: Logger, namespace: string, actor: Actor) {
    this.kube = kube;
    this.log = log;
    this.namespace = namespace;
    this.actor = actor;
  }

  /** The namespace's display name and, when the portal must not write there, why. */
  async describe(): Promise<{ displayName: string; readOnly: string | undefined }> {
    const ns = await this.kube.call<KubeObject>('GET', pathOf('Namespace', undefined, this.namespace));
    const annotations = ns.metadata.annotations ?? {};
    return {
      displayName: annotations[DISPLAY_NAME_ANNOTATION] ?? this.namespace,
      readOnly:
        annotations[GITOPS_ANNOTATION] === 'true'
          ? `This organization is managed through GitOps (the namespace ${this.namespace} carries ${GITOPS_ANNOTATION}=true): change its configuration in Git. The portal shows it read-only.`
          : undefined,
    };
  }

  /**
   * Whether another organization has verified `domain` — the one read outside the organization,
   * answering yes or no only (never which organization), so an admin learns at once that adding
   * the domain here would only end in a conflict.
   */
  async domainVerifiedElsewhere(domain: string): Promise<boolean> {
    const all = await this.kube.call<{ items: { metadata: { namespace?: string }; spec?: { domain?: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>('GET', pathOf('VerifiedDomain'));
    return all.items.some((d) => d.metadata.namespace !== this.namespace && d.spec?.domain === domain && d.status?.conditions?.some((c) => c.type === 'Verified' && c.status === 'True'));
  }

  async list<T extends KubeObject>(kind: OrgKind): Promise<T[]> {
    const res = await this.kube.call<{ items: T[] }>('GET', pathOf(kind, this.namespace));
    return res.items;
  }

  async get<T extends KubeObject>(kind: OrgKind, name: string): Promise<T | undefined> {
    try {
      return await this.kube.call<T>('GET', pathOf(kind, this.namespace, name));
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /**
   * Server-side apply of `fields` (spec, and metadata labels/annotations) to one object of the
   * organization. Refuses in a GitOps-managed organization; never forces.
   */
  async apply<T extends KubeObject>(kind: OrgKind, name: string, fields: { spec?: unknown; metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } }, o: ApplyOptions = {}): Promise<T> {
    const { readOnly } = await this.describe();
    if (readOnly) throw new PortalWriteError('read-only', readOnly);
    const body = {
      apiVersion: API_VERSION,
      kind,
      metadata: { ...fields.metadata, name, namespace: this.namespace, ...(o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}) },
      ...(fields.spec !== undefined ? { spec: fields.spec } : {}),
    };
    try {
      return await this.kube.call<T>('PATCH', pathOf(kind, this.namespace, name), {
        body,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: FIELD_MANAGER, force: false, ...(o.dryRun ? { dryRun: 'All' } : {}) },
        verb: 'apply',
        retries: 0,
      });
    } catch (err) {
      throw writeErrorOf(err, `${kind} ${name}`);
    }
  }

  /**
   * Changes part of an existing object: `change` gets what the portal already applied (read back
   * from managedFields, so the apply keeps it) and returns the new intent. `generation` is the
   * object's generation when the admin's form was rendered: a spec change since — by anyone — is
   * a conflict. Status writes (which change only the resourceVersion) are not: a write racing the
   * read is retried on a fresh read.
   */
  async edit<T extends KubeObject>(kind: OrgKind, name: string, change: (owned: OwnedFields, live: T) => OwnedFields, o: { generation?: number | undefined; dryRun?: boolean } = {}): Promise<{ before: T; after: T }> {
    for (let attempt = 0; ; attempt++) {
      const live = await this.get<T>(kind, name);
      if (!live) throw new PortalWriteError('not-found', `${kind} ${name} no longer exists.`);
      if (o.generation !== undefined && live.metadata.generation !== o.generation)
        throw new PortalWriteError('conflict', `Not saved: ${kind} ${name} was changed by someone else since you opened this page. Review the current values below and apply your change again.`);
      try {
        const after = await this.apply<T>(kind, name, change(ownedFields(live, FIELD_MANAGER), live), { resourceVersion: live.metadata.resourceVersion, ...(o.dryRun ? { dryRun: true } : {}) });
        return { before: live, after };
      } catch (err) {
        const raced = err instanceof PortalWriteError && err.kind === 'conflict' && err.fields.length === 0;
        if (!raced || attempt >= 3) throw err;
      }
    }
  }

  /**
   * Records a change as an Event on the object, naming the portal user. Best effort: the change
   * is already made, and the Event's failure is logged, not shown as a failed change.
   */
  async recordChange(obj: KubeObject, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
    const involved = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: this.namespace, uid: obj.metadata.uid };
    const body = eventBody(involved, type, reason, `${message} (by ${this.actor.name} in the admin portal)`, {
      component: FIELD_MANAGER,
      reportingComponent: 'sso.gatehouse.dev/portal',
      instance: process.env.HOSTNAME ?? 'portal',
    });
    try {
      await this.kube.call('POST', pathOf('Event', this.namespace), { body });
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err), reason, namespace: this.namespace }, 'could not record the portal change as an Event');
    }
  }

  /** Kinds the portal writes, for RBAC docs and tests. */
  static readonly KINDS: readonly ResourceKind[] = ['SSOProfile', 'VerifiedDomain', 'ManagedUser'];
}
