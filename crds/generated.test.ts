import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generatedFiles, renderCRD, toStructural } from './render.ts';
import { KINDS } from './api/kinds.ts';

const root = join(import.meta.dirname, '..');

describe('generated CRD files', () => {
  it.each([...generatedFiles().keys()])('%s matches the zod schemas (run `make generate` if not)', (path) => {
    const committed = readFileSync(join(root, path), 'utf8');
    expect(committed).toBe(generatedFiles().get(path));
  });

  it('the chart ships exactly the CRDs in crds/bases', () => {
    for (const def of KINDS) {
      const chart = readFileSync(join(root, 'charts/gatehouse/templates/crds', `sso.gatehouse.dev_${def.plural}.yaml`), 'utf8');
      // Strip the Helm guards and labels: what remains must be the same object.
      const untemplated = chart
        .split('\n')
        .filter((l) => !l.includes('{{') && !/^\s+(app\.kubernetes\.io|helm\.sh)\//.test(l) && !/^\s+(labels|annotations):$/.test(l))
        .join('\n');
      expect(parse(untemplated)).toEqual(renderCRD(def));
    }
  });
});

describe('toStructural', () => {
  it('drops what structural schemas refuse and keeps the rest', () => {
    expect(
      toStructural({
        $schema: 'x',
        type: 'object',
        additionalProperties: false,
        properties: { at: { type: 'string', format: 'date-time', pattern: '(?=x)' }, n: { type: 'integer', maximum: Number.MAX_SAFE_INTEGER, minimum: 0 }, k: { const: 'A' } },
      }),
    ).toEqual({ type: 'object', properties: { at: { type: 'string', format: 'date-time' }, n: { type: 'integer', minimum: 0 }, k: { enum: ['A'] } } });
  });

  it('refuses unions, which would not be structural', () => {
    expect(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'integer' }] })).toThrow(/not structural/);
  });
});
