import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/app-config';

/** The console's session cookie: HTTP-only, SameSite=Strict, Secure over https (or always, by configuration). */
export const SESSION_COOKIE = 'slotwise_session';
/** Header the console sends on every write, carrying the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

/** The value of one cookie in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{20,200}$/.test(value) ? value : null;
  }
  return null;
}

export function sessionTokenOf(request: Pick<FastifyRequest, 'headers'>): string | null {
  return readCookie(request.headers.cookie, SESSION_COOKIE);
}

function secure(config: AppConfig, request: FastifyRequest): boolean {
  return config.cookieSecure === 'on' || (config.cookieSecure === 'auto' && request.protocol === 'https');
}

export function setSessionCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  config: AppConfig,
  token: string,
  maxAgeSeconds: number,
): void {
  const attrs = [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ];
  if (secure(config, request)) attrs.push('Secure');
  void reply.header('set-cookie', attrs.join('; '));
}

export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest, config: AppConfig): void {
  const attrs = [`${SESSION_COOKIE}=`, 'Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=0'];
  if (secure(config, request)) attrs.push('Secure');
  void reply.header('set-cookie', attrs.join('; '));
}
