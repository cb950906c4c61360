// The chart's values.schema.json is generated from charts/values.ts, and the chart's own values
// satisfy the zod schema it comes from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DURATION_PATTERN } from '../crds/api/duration.ts';
import { chartValues, renderValuesSchema, VALUES_SCHEMA_PATH } from './values.ts';

const root = join(import.meta.dirname, '..');

describe('the chart values schema', () => {
  it(`${VALUES_SCHEMA_PATH} matches charts/values.ts (run \`make generate\` if not)`, () => {
    expect(readFileSync(join(root, VALUES_SCHEMA_PATH), 'utf8')).toBe(renderValuesSchema());
  });

  it('accepts the chart\'s default values', () => {
    const values: unknown = parse(readFileSync(join(root, 'charts', 'gatehouse', 'values.yaml'), 'utf8'));
    expect(chartValues.safeParse(values).error).toBeUndefined();
  });

  it('validates durations with the pattern the CRDs use', () => {
    const schema = JSON.parse(renderValuesSchema()) as { properties: { operator: { properties: { certificateExpiryWarning: { pattern: string } } } } };
    expect(schema.properties.operator.properties.certificateExpiryWarning.pattern).toBe(DURATION_PATTERN);
  });

  it('keeps no bound zod adds on its own', () => {
    const text = renderValuesSchema();
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect(text).not.toContain('propertyNames');
    expect(text).not.toContain('\\\\/');
  });
});
