// UI-1: serves the built Preact app (ui/dist, from `npm run build:ui`): `/dashboard` (kiosk) and
// `/admin` answer index.html for any sub-path (the app routes in the browser), `/assets/*` are
// content-hashed so they are cached for a year (a pre-gzipped copy when the browser accepts it),
// and `/` goes to the admin. No token here: the app itself logs in against /api.
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Where the built UI is: MCS_UI_DIR, next to this source tree, or ./ui/dist. */
export function uiDistDir(): string {
  const candidates = [
    process.env.MCS_UI_DIR,
    new URL('../../../ui/dist', import.meta.url).pathname,
    join(process.cwd(), 'ui', 'dist'),
  ].filter((dir): dir is string => Boolean(dir));
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[candidates.length - 1];
}

export function uiRoutes(dir = uiDistDir()) {
  const assets = resolve(dir, 'assets');

  async function sendIndex(reply: FastifyReply) {
    const file = join(dir, 'index.html');
    if (!(await stat(file).catch(() => null))) {
      return reply.status(503).type('text/plain; charset=utf-8').send('The UI is not built: run `npm run build:ui`.\n');
    }
    reply.header('cache-control', 'no-cache'); // always ask: a new build changes the asset names
    return reply.type('text/html; charset=utf-8').send(createReadStream(file));
  }

  return async function register(app: FastifyInstance) {
    const hide = { schema: { hide: true } };
    app.get('/', hide, async (_request, reply) => reply.redirect('/admin'));
    for (const base of ['/dashboard', '/admin']) {
      app.get(base, hide, async (_request, reply) => sendIndex(reply));
      app.get(`${base}/*`, hide, async (_request, reply) => sendIndex(reply));
    }
    app.get('/assets/*', hide, async (request, reply) => {
      const name = (request.params as { '*': string })['*'];
      const file = resolve(assets, name);
      const type = TYPES[file.slice(file.lastIndexOf('.'))];
      if (!file.startsWith(`${assets}/`) || !type || !(await stat(file).catch(() => null))) {
        return reply.status(404).send({ code: 404, message: 'no such asset', detail: null });
      }
      reply.header('cache-control', 'public, max-age=31536000, immutable');
      reply.header('vary', 'accept-encoding');
      reply.type(type);
      const gzipped = `${file}.gz`;
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')) && (await stat(gzipped).catch(() => null))) {
        reply.header('content-encoding', 'gzip');
        return reply.send(createReadStream(gzipped));
      }
      return reply.send(createReadStream(file));
    });
  };
}
