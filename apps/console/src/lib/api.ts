/**
 * The console's HTTP client: @slotwise/client over same-origin fetch with the session cookie, and the CSRF token on
 * every write. Errors are the client's ApiError (problem+json `detail`, `errors: [{path, message}]`, `type`).
 */
import { ApiError, SlotwiseClient } from '@slotwise/client';

export { ApiError };

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

/** The SDK the pages call: typed operations (`client.report(key)`, …) and `client.request` for the console's own routes. */
export const client = new SlotwiseClient('', {
  credentials: 'same-origin',
  headers: (method): Record<string, string> => (method !== 'GET' && csrfToken ? { 'x-csrf-token': csrfToken } : {}),
  // A person is waiting: no silent retries (each page offers "Retry").
  retry: { retries: 0 },
  // A 401 outside the sign-in routes: the session expired or was signed out elsewhere; the app shows sign-in again.
  onError: (e) => {
    if (e.status === 401 && !e.operation.split(' ')[1]?.startsWith('/v1/console/'))
      unauthorizedListeners.forEach((l) => l());
  },
});

/** An untyped call (the console's own routes and the few operations the SDK has no method for). */
export function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  return client.request<T>(method, path, body);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError)
    return err.status === 0 ? 'The server could not be reached. Check your connection and try again.' : err.detail;
  return err instanceof Error ? err.message : String(err);
}
