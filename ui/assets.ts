// The stylesheet and script every Gatehouse page loads, read once and served with a content hash
// in the URL so they can be cached for a year (a new release changes the URL).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

interface Asset {
  path: string;
  body: Buffer;
  type: string;
}

function load(file: string, type: string, ext: string): Asset {
  const body = readFileSync(join(import.meta.dirname, file));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/assets/gatehouse.${hash}.${ext}`, body, type };
}

const CSS = load('style.css', 'text/css; charset=utf-8', 'css');
const JS = load('client.js', 'text/javascript; charset=utf-8', 'js');

export const ASSET_PATHS = { css: CSS.path, js: JS.path } as const;

/** Registers GET routes for the assets on a fastify instance (at the instance's prefix). */
export function registerAssets(app: FastifyInstance): void {
  for (const asset of [CSS, JS]) {
    app.get(asset.path, async (_req, reply) =>
      reply.header('content-type', asset.type).header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff').send(asset.body),
    );
  }
}
