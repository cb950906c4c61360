// Turns the zod schemas into CustomResourceDefinitions: a structural OpenAPI v3 schema per kind,
// status subresource, printer columns, short names. Pure: the same schemas give the same bytes.
import { z } from 'zod';
import { stringify } from 'yaml';
import { GROUP, VERSION } from './api/common.ts';
import { KINDS, type KindDefinition } from './api/kinds.ts';

type JSONSchema = { [key: string]: unknown };

// Keys zod emits that a CRD's structural schema does not accept or does not need.
const DROPPED_KEYS = new Set(['$schema', 'additionalProperties', 'id', '$id']);

function isRecord(value: unknown): value is JSONSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rewrites zod's JSON Schema into the dialect kube-apiserver accepts for structural schemas. */
export function toStructural(schema: JSONSchema): JSONSchema {
  const out: JSONSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key === 'const') {
      out.enum = [value];
    } else if (key === 'properties' && isRecord(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, toStructural(sub as JSONSchema)]),
      );
    } else if (key === 'items' && isRecord(value)) {
      out.items = toStructural(value);
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      throw new Error(`${key} is not structural; express the alternative with a CEL rule instead`);
    } else if (typeof value === 'number' && Math.abs(value) >= Number.MAX_SAFE_INTEGER) {
      // zod bounds z.int() by the safe-integer range; Kubernetes integers are int64 already.
      continue;
    } else {
      out[key] = value;
    }
  }
  // zod adds a full RFC 3339 regex next to format: date-time; it uses look-aheads RE2 refuses,
  // and the API server validates the format itself.
  if (out.format === 'date-time') delete out.pattern;
  return out;
}

function schemaOf(type: z.ZodType): JSONSchema {
  return toStructural(z.toJSONSchema(type, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }) as JSONSchema);
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: JSONSchema;
}

export function renderCRD(def: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['gatehouse', 'sso'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: schemaOf(def.spec),
                status: schemaOf(def.status),
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER = '# Generated from crds/api by `npm run generate`. Do not edit by hand.\n';

export function crdFileName(def: KindDefinition): string {
  return `${GROUP}_${def.plural}.yaml`;
}

export function renderCRDYaml(def: KindDefinition): string {
  return HEADER + stringify(renderCRD(def), { lineWidth: 0 });
}

/**
 * The chart's copy: a template behind `crds.enabled`, so that `helm upgrade` applies schema
 * changes (Helm never upgrades a chart's crds/ folder), with `crds.keep` adding Helm's
 * resource-policy so an uninstall does not delete every organization's resources.
 */
export function renderChartCRDTemplate(def: KindDefinition): string {
  const crd = renderCRD(def);
  const body = stringify(crd, { lineWidth: 0 });
  if (body.includes('{{')) throw new Error(`${def.kind}: schema text contains "{{", which Helm would evaluate`);
  const metadataLine = `  name: ${crd.metadata.name}\n`;
  const templated = body.replace(
    metadataLine,
    metadataLine +
      '  labels:\n' +
      '    app.kubernetes.io/name: gatehouse\n' +
      '    app.kubernetes.io/part-of: gatehouse\n' +
      '    app.kubernetes.io/managed-by: {{ .Release.Service }}\n' +
      '  {{- if .Values.crds.keep }}\n' +
      '  annotations:\n' +
      '    helm.sh/resource-policy: keep\n' +
      '  {{- end }}\n',
  );
  return HEADER + '{{- if .Values.crds.enabled }}\n' + templated + '{{- end }}\n';
}

/** Every generated file, by path relative to the repository root. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const def of KINDS) {
    files.set(`crds/bases/${crdFileName(def)}`, renderCRDYaml(def));
    files.set(`charts/gatehouse/templates/crds/${crdFileName(def)}`, renderChartCRDTemplate(def));
  }
  return files;
}
