// The Dockerfile cannot be built on these machines; these checks keep it in step with what
// the rest of the tree pins and with what the chart expects of the image.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

describe('Dockerfile', () => {
  it('builds on the Node.js version the project pins', () => {
    const pinned = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(join(root, 'hack', 'lib.sh'), 'utf8'))?.[1];
    expect(pinned).toMatch(/^24\./);
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${pinned?.replaceAll('.', '\\.')}-bookworm-slim$`, 'm'));
  });

  it('runs as the numeric non-root user the chart declares', () => {
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    expect(user).not.toBeNull();
    const values = parse(readFileSync(join(root, 'charts', 'gatehouse', 'values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number; runAsGroup: number } };
    expect(Number(user?.[1])).toBe(values.podSecurityContext.runAsUser);
    expect(Number(user?.[2])).toBe(values.podSecurityContext.runAsGroup);
    expect(values.podSecurityContext.runAsUser).toBeGreaterThan(0);
  });

  it('is multi-stage, installs production dependencies only, and ships no package manager', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/rm -rf \/usr\/local\/lib\/node_modules /);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node"\]$/m);
  });

  it('fills the module compile cache as the chart\'s user, once every source is in place', () => {
    // Node keys the cache by user ID: filled as another user, the chart's processes would miss it.
    const lines = dockerfile.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const fill = at(/^RUN .*hack\/fill-compile-cache\.sh/);
    expect(fill).toBeGreaterThan(at(/^USER 10001:10001$/));
    expect(fill).toBeGreaterThan(Math.max(...lines.map((l, i) => (/^COPY /.test(l) ? i : -1))));
    expect(at(/^ENV NODE_COMPILE_CACHE=\/app\/\S+$/)).toBeGreaterThan(at(/^FROM .* AS runtime$/));
    expect(readFileSync(join(root, '.dockerignore'), 'utf8')).toMatch(/^!hack\/fill-compile-cache\.sh$/m);
  });

  it('copies everything the entry points import from the tree', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]);
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8');
    const needed = topLevelDirsImportedBy(['operator/main.ts', 'sp-server/main.ts', 'sp-server/saml/validation-worker.ts', 'portal/main.ts', 'portal/setup-links/mint-link.ts']);
    expect(needed).toEqual(expect.arrayContaining(['crds', 'kube', 'operator', 'sp-server', 'xml', 'egress', 'ui', 'portal']));
    expect(copied).toEqual(expect.arrayContaining(needed));
    for (const dir of [...needed, 'package.json', 'package-lock.json']) expect(ignore).toMatch(new RegExp(`^!${dir}$`, 'm'));
  });
});

/** The top-level folders reached by following relative imports (and worker URLs) from the entry points. */
function topLevelDirsImportedBy(entries: string[]): string[] {
  const seen = new Set<string>();
  const pending = entries.map((e) => join(root, e));
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/(?:from |import\(|new URL\()\s*'(\.{1,2}\/[^']+\.ts)'/g)].map((m) => m[1] as string);
    for (const spec of specifiers) pending.push(resolve(dirname(file), spec));
  }
  return [...new Set([...seen].map((f) => relative(root, f).split('/')[0] as string))].sort();
}
