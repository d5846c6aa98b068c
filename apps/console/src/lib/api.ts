/** The console's HTTP client: same-origin JSON, the session cookie, and the CSRF token on every write. */

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly type = '',
  ) {
    super(detail);
  }
  /** The route is not on this server (yet), or the thing does not exist. */
  get notFound(): boolean {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

let csrfToken: string | null = null;
const unauthorizedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when any request answers 401 (session expired or signed out elsewhere). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const p = (parsed ?? {}) as { detail?: string; errors?: FieldError[]; type?: string };
    if (res.status === 401 && !path.startsWith('/v1/console/')) unauthorizedListeners.forEach((l) => l());
    throw new ApiError(res.status, p.detail ?? `${res.status} ${res.statusText}`, p.errors ?? [], p.type ?? '');
  }
  return parsed as T;
}

/** A read that may not exist on this server yet: null on 404 instead of an error. */
export async function apiOptional<T>(path: string): Promise<T | null> {
  try {
    return await api<T>('GET', path);
  } catch (err) {
    if (err instanceof ApiError && err.notFound) return null;
    throw err;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  return err instanceof Error ? err.message : String(err);
}
