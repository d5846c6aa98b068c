/** RFC 9457 problem details, the body of every error response. */
export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  requestId?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Thrown anywhere in the API to answer with a problem+json body. */
export class Problem extends Error {
  /** A title more specific than the status's, and extra response headers (Retry-After). */
  title?: string;
  headers?: Record<string, string>;

  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly slug?: string,
  ) {
    super(detail);
  }

  body(requestId?: string): ProblemBody {
    const body = problemBody(this.status, this.detail, this.errors, this.slug, requestId);
    if (this.title) body.title = this.title;
    return body;
  }

  /** 503 with a specific title and Retry-After: something on this server cannot serve now, the request was fine. */
  static unavailable(title: string, detail: string, slug: string, retryAfterSeconds: number): Problem {
    const p = new Problem(503, detail, undefined, slug);
    p.title = title;
    p.headers = { 'retry-after': String(retryAfterSeconds) };
    return p;
  }

  static badRequest(detail: string, errors?: FieldError[]): Problem {
    return new Problem(400, detail, errors, errors ? 'validation' : 'bad-request');
  }
  static validation(errors: FieldError[]): Problem {
    return new Problem(
      400,
      `The request is invalid: ${errors
        .map((e) => `${e.path}: ${e.message}`)
        .slice(0, 3)
        .join('; ')}`,
      errors,
      'validation',
    );
  }
  static notFound(detail: string): Problem {
    return new Problem(404, detail, undefined, 'not-found');
  }
  static conflict(detail: string, slug = 'conflict'): Problem {
    return new Problem(409, detail, undefined, slug);
  }
  static unauthorized(detail: string): Problem {
    return new Problem(401, detail, undefined, 'unauthorized');
  }
  static forbidden(detail: string): Problem {
    return new Problem(403, detail, undefined, 'forbidden');
  }
}

export function problemBody(
  status: number,
  detail: string,
  errors?: FieldError[],
  slug?: string,
  requestId?: string,
): ProblemBody {
  const title = TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Error');
  const body: ProblemBody = {
    type: `https://slotwise.dev/problems/${slug ?? title.toLowerCase().replace(/[^a-z]+/g, '-')}`,
    title,
    status,
    detail,
  };
  if (errors) body.errors = errors;
  if (requestId) body.requestId = requestId;
  return body;
}
