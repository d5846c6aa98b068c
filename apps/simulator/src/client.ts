/** A small HTTP client for the Slotwise API (Node's fetch): JSON in and out, problem+json errors thrown. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} → HTTP ${status}: ${typeof body === 'object' && body && 'detail' in body ? String((body as { detail: unknown }).detail) : JSON.stringify(body)}`);
  }
}

export class SlotwiseClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown, options: { retries?: number; okStatuses?: number[] } = {}): Promise<T> {
    const retries = options.retries ?? 0;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.baseUrl + path, {
          method,
          headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        if (attempt < retries) {
          await sleep(100 * 2 ** attempt);
          continue;
        }
        throw err;
      }
      const text = await res.text();
      const parsed = text ? safeJson(text) : undefined;
      if (res.ok || options.okStatuses?.includes(res.status)) return parsed as T;
      if ((res.status === 503 || res.status === 429) && attempt < retries) {
        await sleep(100 * 2 ** attempt);
        continue;
      }
      throw new ApiError(res.status, parsed ?? text, `${method} ${path}`);
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
