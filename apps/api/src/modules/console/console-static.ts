import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Paths the single-page app owns; every other path stays with the API (so unknown API routes remain 404 problems). */
export const CONSOLE_ROUTES = ['/', '/sign-in', '/setup', '/experiments', '/experiments/*', '/admin', '/admin/*'];

/** dist/console of the project: found by walking up from this file (source tree or compiled dist/). */
export function findConsoleDir(start = __dirname): string | null {
  let dir = start;
  for (let i = 0; i < 10; i++) {
    const candidate = join(dir, 'dist', 'console');
    if (existsSync(join(dir, 'package.json')) && existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Slotwise</title>
<body style="font:16px system-ui;margin:4rem auto;max-width:36rem;color:#1f2937">
<h1>The Slotwise console has not been built</h1><p>Run <code>npm run build</code> (or <code>node scripts/build-console.js</code>) and reload.
The API is up: see <a href="/docs">/docs</a>.</p></body>`;

/**
 * Serve the built console (dist/console) at `/`: hashed assets under /assets (cached for a year), index.html for the
 * app's own routes (never cached, so a new build is picked up). Registered on Fastify directly, outside Nest's guard.
 * Security headers (CSP, nosniff, X-Frame-Options) come from common/http/security-headers, as on every response.
 */
export function registerConsoleStatic(fastify: FastifyInstance, consoleDir: string | null = findConsoleDir()): void {
  const index = async (_req: unknown, reply: FastifyReply) => {
    const dir = consoleDir ?? findConsoleDir();
    reply.header('cache-control', 'no-cache');
    if (!dir) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    const html = await readFile(join(dir, 'index.html'));
    return reply.type('text/html; charset=utf-8').send(html);
  };
  for (const url of CONSOLE_ROUTES) fastify.get(url, index);

  const asset = async (request: { params: unknown }, reply: FastifyReply) => {
    const dir = consoleDir ?? findConsoleDir();
    const rel = (request.params as { '*': string })['*'] ?? '';
    const root = dir ? resolve(dir, 'assets') : null;
    const file = root ? resolve(root, rel) : null;
    if (!root || !file || !file.startsWith(root + sep) || !TYPES[extname(file)]) return reply.callNotFound();
    try {
      const body = await readFile(file);
      return reply.type(TYPES[extname(file)]).header('cache-control', 'public, max-age=31536000, immutable').send(body);
    } catch {
      return reply.callNotFound();
    }
  };
  fastify.get('/assets/*', asset);
  fastify.get('/favicon.svg', async (_req, reply) => {
    const dir = consoleDir ?? findConsoleDir();
    if (!dir || !existsSync(join(dir, 'favicon.svg'))) return reply.callNotFound();
    return reply
      .type('image/svg+xml')
      .header('cache-control', 'public, max-age=86400')
      .send(await readFile(join(dir, 'favicon.svg')));
  });
}
