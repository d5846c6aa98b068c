import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Content-Security-Policy of every response, shaped for the HTML the API serves itself: the console (React + Vite:
 * module scripts from /assets only, no inline script; ECharts and React set inline styles, hence style-src
 * 'unsafe-inline'; ECharts' "save as image" uses data: URLs), and the Swagger UI at /docs (scripts from /docs,
 * inline <style>, data: icons). JSON answers carry it too: harmless, and a stray HTML rendering is covered.
 */
export const DEFAULT_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * The printable report (GET /v1/experiments/{key}/report.html) is self-contained: one inline <style>, no scripts, no
 * requests. Its policy allows exactly that, so HTML injected through a report field could neither run nor load.
 */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Routes (Fastify route patterns) whose answers get {@link REPORT_CSP} instead of the default policy. */
const SELF_CONTAINED_HTML_ROUTES = new Set(['/v1/experiments/:key/report.html']);

/**
 * Security headers on every response (API, errors, 404s, console, /docs, report.html), through @fastify/helmet:
 * Content-Security-Policy (above), X-Content-Type-Options: nosniff, X-Frame-Options: DENY (with CSP
 * frame-ancestors 'none'), Referrer-Policy: no-referrer, Cross-Origin-Opener-Policy / -Resource-Policy:
 * same-origin, and helmet's other defaults. Not set: Strict-Transport-Security (belongs to whatever terminates TLS)
 * and upgrade-insecure-requests (Slotwise is often served over plain http on a private network, where it would
 * break the console's assets). Register before the routes (app.init()).
 */
export async function registerSecurityHeaders(fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: DEFAULT_CSP },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
  });
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (SELF_CONTAINED_HTML_ROUTES.has(request.routeOptions.url ?? ''))
      reply.header('content-security-policy', REPORT_CSP);
    return payload;
  });
}
