// Writes the CRD YAML (crds/bases/), the chart's CRD templates and the chart's
// values.schema.json from the zod schemas.
// Usage: node crds/generate.ts [--check]   (--check exits 1 when a committed copy is stale)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderValuesSchema, VALUES_SCHEMA_PATH } from '../charts/values.ts';
import { generatedFiles } from './render.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const stale: string[] = [];

for (const [path, content] of [...generatedFiles(), [VALUES_SCHEMA_PATH, renderValuesSchema()] as const]) {
  const target = join(root, path);
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    stale.push(path);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote ${path}`);
  }
}

if (stale.length > 0) {
  console.error(`stale generated files (run npm run generate):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
