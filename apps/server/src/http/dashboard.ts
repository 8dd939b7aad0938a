import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** apps/dashboard/dist, from apps/server/src/http or apps/server/dist/http alike. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

/** Vite names built assets by their content hash: they never change, so browsers keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const PREFIX = '/dashboard/';

/** The console is not to be framed by other sites (its buttons act on the service). */
function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "frame-ancestors 'none'")
    .header('referrer-policy', 'same-origin');
}

function missingPage(dir: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mailroute console not built</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The mailroute console is not built</h1>
<p>This server serves the console from <code>${dir.replace(/[<>&]/g, '')}</code>, which has no <code>index.html</code>.</p>
<p>Build it with <code>npm run build</code> (or <code>npm run build -w @mailroute/dashboard</code>) and restart the server.
Set <code>dashboard.enabled: false</code> to turn the console off.</p>
<p>The API at <code>/trpc</code> works without it.</p>
</body></html>`;
}

/**
 * The operator console's built files at /dashboard/: hashed assets cached for good, index.html
 * never (so a deploy shows at the next load), and any other path under /dashboard/ without a
 * file extension answered with index.html, for the console's own routes (history fallback).
 * Without a build, a 503 page says how to make one.
 */
export async function registerDashboard(app: FastifyInstance, dir: string = DEFAULT_DASHBOARD_DIR): Promise<void> {
  app.get('/dashboard', { config: { rateLimit: false } }, (_request, reply) => reply.redirect(PREFIX, 301));
  if (!existsSync(path.join(dir, 'index.html'))) {
    app.get(`${PREFIX}*`, { config: { rateLimit: false } }, (_request, reply) =>
      securityHeaders(reply).code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(missingPage(dir)),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: PREFIX,
    // Only the files present at start get routes; everything else falls to the handler below.
    wildcard: false,
    index: false,
    setHeaders(res, file) {
      res.header('cache-control', path.basename(file) === 'index.html' ? 'no-cache' : IMMUTABLE);
      res.header('x-content-type-options', 'nosniff');
    },
  });
  app.get(`${PREFIX}*`, { config: { rateLimit: false } }, (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    // A missing asset (old hash after a deploy) is a 404, not the page.
    if (/\.[A-Za-z0-9]+$/.test(rest)) return reply.callNotFound();
    return securityHeaders(reply).header('cache-control', 'no-cache').sendFile('index.html');
  });
}
