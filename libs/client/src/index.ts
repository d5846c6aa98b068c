/**
 * @slotwise/client: a typed client of the Slotwise API over `fetch` (Node 20+ and browsers), typed from
 * @slotwise/contracts. Retries with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff
 * And Jitter", 2015), honouring `Retry-After`; batches of rewards and events get an `eventId` per entry before the
 * first attempt, so a retried batch is counted once. See libs/client/README.md.
 */
import {
  ROUTES,
  type assignSchema,
  type createExperimentSchema,
  type eventsBatchSchema,
  type exposuresBatchSchema,
  type importDecisionsSchema,
  type opeRequestSchema,
  type patchExperimentSchema,
  type rankRequestSchema,
  type ResponseOf,
  type rewardsRequestSchema,
  type RouteContract,
  type RouteKey,
} from '@slotwise/contracts';
import type { z } from 'zod';

/** A problem+json answer (or a network failure: status 0). */
export class ApiError extends Error {
  readonly detail: string;
  readonly errors: Array<{ path: string; message: string }>;
  readonly type: string;
  /** `status` 0: no answer (network failure). `operation`: "METHOD /path" of the call. */
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly operation: string,
  ) {
    const what = operation;
    const p = (body && typeof body === 'object' ? body : {}) as { detail?: unknown; errors?: unknown; type?: unknown };
    const detail = typeof p.detail === 'string' ? p.detail : typeof body === 'string' && body ? body : `HTTP ${status}`;
    super(`${what} → HTTP ${status}: ${detail}`);
    this.detail = detail;
    this.errors = Array.isArray(p.errors) ? (p.errors as ApiError['errors']) : [];
    this.type = typeof p.type === 'string' ? p.type : '';
  }
}

export interface RetryOptions {
  /** further attempts after the first (default 3 for calls that are safe to repeat, see README) */
  retries: number;
  /** first backoff in ms, doubled per attempt (default 100) */
  baseMs: number;
  /** longest wait in ms, also caps `Retry-After` (default 5000) */
  maxMs: number;
}

export interface ClientOptions {
  /** Bearer API key; omit to send cookies instead (the console: `credentials: 'same-origin'`) */
  apiKey?: string;
  credentials?: RequestInit['credentials'];
  /** extra headers per request (the console's X-CSRF-Token on writes) */
  headers?: (method: string, path: string) => Record<string, string>;
  retry?: Partial<RetryOptions>;
  /** parse every JSON answer with its response schema and throw on a mismatch (tests, tooling) */
  validate?: boolean;
  fetch?: typeof fetch;
  /** called with every error answer before it is thrown (the console signs out on 401) */
  onError?: (error: ApiError) => void;
  /** injectable for tests: a number in [0, 1) */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  /** override the retry count of this call (0: no retry) */
  retries?: number;
  /** statuses answered as values instead of errors (their body is returned) */
  okStatuses?: number[];
  query?: Record<string, string | number | boolean | undefined | null>;
}

type Input<S extends z.ZodType> = z.input<S>;
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const DEFAULT_RETRY: RetryOptions = { retries: 3, baseMs: 100, maxMs: 5000 };
/** POSTs that are idempotent by design: exposures per (experiment, unit, variant), rewards and events per eventId. */
const IDEMPOTENT_POSTS = new Set(['/v1/exposures', '/v1/rewards', '/v1/events', '/v1/items/batch']);

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const newId = (): string => globalThis.crypto.randomUUID();

/** Fills a missing `eventId` per entry (before the first attempt: every retry then sends the same ids). */
export function withEventIds<T extends { eventId?: string }>(entries: readonly T[]): Array<T & { eventId: string }> {
  return entries.map((e) => (e.eventId ? (e as T & { eventId: string }) : { ...e, eventId: newId() }));
}

const encode = encodeURIComponent;

export class SlotwiseClient {
  private readonly options: ClientOptions;
  private readonly retry: RetryOptions;

  /** `baseUrl` without a trailing slash ('' for same-origin in a browser); a key string or options. */
  constructor(
    readonly baseUrl: string,
    keyOrOptions: string | ClientOptions = {},
  ) {
    this.options = typeof keyOrOptions === 'string' ? { apiKey: keyOrOptions } : keyOrOptions;
    this.retry = { ...DEFAULT_RETRY, ...this.options.retry };
  }

  /**
   * One call: JSON in and out, problem+json thrown as ApiError. Retried on network errors and 429 / 502 / 503 / 504
   * when repeating it is safe (GET, PUT, DELETE and the idempotent POSTs); any other POST only on 429 / 503, which
   * the API answers before doing anything.
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const m = method.toUpperCase();
    const url = this.baseUrl + path + queryString(options.query);
    const bare = path.split('?')[0];
    const safe = m === 'GET' || m === 'PUT' || m === 'DELETE' || IDEMPOTENT_POSTS.has(bare);
    const retries = options.retries ?? this.retry.retries;
    const doFetch = this.options.fetch ?? fetch;
    const wait = this.options.sleep ?? sleep;
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers?.(m, bare) };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(url, { method: m, headers, body: payload, credentials: this.options.credentials });
      } catch (err) {
        if (safe && attempt < retries) {
          await wait(this.backoff(attempt, null));
          continue;
        }
        const e = new ApiError(
          0,
          { detail: `the server could not be reached (${(err as Error).message})` },
          `${m} ${path}`,
        );
        this.options.onError?.(e);
        throw e;
      }
      const text = await res.text();
      const parsed = text ? parseJson(text) : undefined;
      if (res.ok || options.okStatuses?.includes(res.status)) {
        if (this.options.validate && res.ok) this.check(m, bare, res, parsed);
        return parsed as T;
      }
      const retryable = safe ? RETRY_STATUSES.has(res.status) : res.status === 429 || res.status === 503;
      if (retryable && attempt < retries) {
        await wait(this.backoff(attempt, res.headers.get('retry-after')));
        continue;
      }
      const e = new ApiError(res.status, parsed ?? text, `${m} ${path}`);
      this.options.onError?.(e);
      throw e;
    }
  }

  /** Full jitter: uniform in [0, min(max, base·2^attempt)], or the server's Retry-After (seconds) when longer. */
  private backoff(attempt: number, retryAfter: string | null): number {
    const ceiling = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** attempt);
    const jitter = Math.floor((this.options.random ?? Math.random)() * ceiling);
    const after =
      retryAfter !== null && /^\d+$/.test(retryAfter) ? Math.min(this.retry.maxMs, Number(retryAfter) * 1000) : 0;
    return Math.max(jitter, after);
  }

  private check(method: string, path: string, res: Response, body: unknown): void {
    if (!(res.headers.get('content-type') ?? '').startsWith('application/json')) return;
    for (const [key, contract] of Object.entries(ROUTES as Record<string, RouteContract>)) {
      const [m, p] = key.split(' ');
      if (m !== method || !contract.response) continue;
      if (!new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path)) continue;
      const result = contract.response.safeParse(body);
      if (!result.success)
        throw new ApiError(
          res.status,
          { detail: `the answer does not match ${key}: ${result.error.message}` },
          `${method} ${path}`,
        );
      return;
    }
  }

  private op<K extends RouteKey>(
    _route: K,
    method: string,
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<ResponseOf<K>> {
    return this.request<ResponseOf<K>>(method, path, body, options);
  }

  // ---- serving ----------------------------------------------------------------------------------------------------
  rank(body: Input<typeof rankRequestSchema>, options?: RequestOptions) {
    return this.op('POST /v1/rank', 'POST', '/v1/rank', body, options);
  }
  /** Rewards; entries without an eventId get one, so a retry after a lost answer is a duplicate, not a second count. */
  rewards(rewards: Input<typeof rewardsRequestSchema>['rewards'], options?: RequestOptions) {
    return this.op('POST /v1/rewards', 'POST', '/v1/rewards', { rewards: withEventIds(rewards) }, options);
  }
  /** Outcome events; entries without an eventId get one (see rewards). */
  events(events: Input<typeof eventsBatchSchema>['events'], options?: RequestOptions) {
    return this.op('POST /v1/events', 'POST', '/v1/events', { events: withEventIds(events) }, options);
  }
  assign(body: Input<typeof assignSchema>, options?: RequestOptions) {
    return this.op('POST /v1/assign', 'POST', '/v1/assign', body, options);
  }
  exposures(exposures: Input<typeof exposuresBatchSchema>['exposures'], options?: RequestOptions) {
    return this.op('POST /v1/exposures', 'POST', '/v1/exposures', { exposures }, options);
  }

  // ---- experiments ------------------------------------------------------------------------------------------------
  listExperiments(query?: { status?: string; kind?: string; q?: string; limit?: number; offset?: number }) {
    return this.op('GET /v1/experiments', 'GET', '/v1/experiments', undefined, { query });
  }
  experiment(key: string) {
    return this.op('GET /v1/experiments/{key}', 'GET', `/v1/experiments/${encode(key)}`);
  }
  createExperiment(body: Input<typeof createExperimentSchema>) {
    return this.op('POST /v1/experiments', 'POST', '/v1/experiments', body);
  }
  patchExperiment(key: string, body: Input<typeof patchExperimentSchema>) {
    return this.op('PATCH /v1/experiments/{key}', 'PATCH', `/v1/experiments/${encode(key)}`, body);
  }
  /** start / pause / stop */
  transition(key: string, action: 'start' | 'pause' | 'stop') {
    return this.op('POST /v1/experiments/{key}/start', 'POST', `/v1/experiments/${encode(key)}/${action}`);
  }
  ship(key: string, variant: string) {
    return this.op('POST /v1/experiments/{key}/ship', 'POST', `/v1/experiments/${encode(key)}/ship`, { variant });
  }

  // ---- reports ----------------------------------------------------------------------------------------------------
  report(key: string, query?: RequestOptions['query']) {
    return this.op('GET /v1/experiments/{key}/report', 'GET', `/v1/experiments/${encode(key)}/report`, undefined, {
      query,
    });
  }
  refreshReport(key: string, query?: RequestOptions['query']) {
    return this.op(
      'POST /v1/experiments/{key}/report/refresh',
      'POST',
      `/v1/experiments/${encode(key)}/report/refresh`,
      undefined,
      { query },
    );
  }
  timeseries(key: string, query?: RequestOptions['query']) {
    return this.op(
      'GET /v1/experiments/{key}/report/timeseries',
      'GET',
      `/v1/experiments/${encode(key)}/report/timeseries`,
      undefined,
      { query },
    );
  }
  decisions(key: string, query?: { limit?: number; before?: string; variant?: string }) {
    return this.op(
      'GET /v1/experiments/{key}/decisions',
      'GET',
      `/v1/experiments/${encode(key)}/decisions`,
      undefined,
      { query },
    );
  }

  // ---- off-policy evaluation --------------------------------------------------------------------------------------
  /** Starts (and, within 2 s, finishes) an evaluation: a 202 answer is returned as the running run. */
  startOpe(key: string, body: Input<typeof opeRequestSchema>) {
    return this.op('POST /v1/experiments/{key}/ope', 'POST', `/v1/experiments/${encode(key)}/ope`, body, {
      okStatuses: [202],
    });
  }
  opeRuns(key: string) {
    return this.op('GET /v1/experiments/{key}/ope', 'GET', `/v1/experiments/${encode(key)}/ope`);
  }
  opeRun(key: string, id: string) {
    return this.op(
      'GET /v1/experiments/{key}/ope/{id}',
      'GET',
      `/v1/experiments/${encode(key)}/ope/${encode(id)}`,
      undefined,
      { okStatuses: [202] },
    );
  }
  importDecisions(key: string, decisions: Input<typeof importDecisionsSchema>['decisions']) {
    return this.op(
      'POST /v1/experiments/{key}/decisions/import',
      'POST',
      `/v1/experiments/${encode(key)}/decisions/import`,
      { decisions },
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const pairs = Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return pairs.length ? `?${pairs.map(([k, v]) => `${encode(k)}=${encode(String(v))}`).join('&')}` : '';
}
