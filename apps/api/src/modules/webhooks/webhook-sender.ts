import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DestinationPolicy } from './destination-policy';
import { signedHeaders } from './signing';

export interface SendResult {
  ok: boolean;
  /** HTTP status, or null when no response came (refused destination, network error, timeout). */
  statusCode: number | null;
  /** Why the attempt failed (null on success); at most 500 characters. */
  error: string | null;
}

/** Response bytes kept for the error message; the rest is drained. */
const MAX_ERROR_BODY = 200;

/**
 * One delivery attempt: POST `body` (JSON) to `url` with fresh Standard Webhooks headers (the same `webhook-id` on
 * every attempt, a new timestamp and signature). Success = a 2xx answer within `timeoutMs`; redirects are not
 * followed (a 3xx is a failure). Connects only to addresses the policy allows (checked at connect time).
 */
export function sendWebhook(
  policy: DestinationPolicy,
  target: { url: string; secret: string; id: string; body: string },
  timeoutMs: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<SendResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, error: r.error ? r.error.slice(0, 500) : null });
    };
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      return done({ ok: false, statusCode: null, error: 'invalid URL' });
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    // IP literals never reach `lookup`: judge them here.
    const literal = /^[\d.]+$|:/.test(host) ? policy.refusal(host) : null;
    if (literal) return done({ ok: false, statusCode: null, error: literal });
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Slotwise-Webhooks/1',
          ...signedHeaders(target.secret, target.id, nowSeconds, target.body),
        },
        lookup: policy.lookup() as never,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_ERROR_BODY) text += chunk;
        });
        res.on('end', () =>
          status >= 200 && status < 300
            ? done({ ok: true, statusCode: status, error: null })
            : done({
                ok: false,
                statusCode: status,
                error: `HTTP ${status}${text ? `: ${text.slice(0, MAX_ERROR_BODY)}` : ''}`,
              }),
        );
        res.on('error', (err) => done({ ok: false, statusCode: status, error: err.message }));
      },
    );
    req.on('error', (err: Error & { code?: string }) =>
      done({
        ok: false,
        statusCode: null,
        error:
          err.name === 'AbortError' || err.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : `${err.code ? `${err.code}: ` : ''}${err.message}`,
      }),
    );
    req.end(target.body);
  });
}
