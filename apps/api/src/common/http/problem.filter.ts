import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem, PROBLEM_CONTENT_TYPE, ProblemBody, problemBody } from './problem';

/** Turns any error into a problem+json answer; unknown errors become a logged 500 without internals. */
export function toProblem(err: unknown, requestId?: string): ProblemBody {
  if (err instanceof Problem) return err.body(requestId);
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const message =
      typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? err.message);
    return problemBody(
      status,
      Array.isArray(message) ? message.join('; ') : String(message),
      undefined,
      undefined,
      requestId,
    );
  }
  const fastifyError = err as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    const detail =
      status === 413
        ? 'The request body is larger than the configured limit (BODY_LIMIT_BYTES).'
        : fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'Send JSON with Content-Type: application/json.'
          : `The request could not be read: ${fastifyError.message ?? 'malformed body'}`;
    return problemBody(status, detail, undefined, fastifyError.code?.toLowerCase().replace(/_/g, '-'), requestId);
  }
  if (isDatabaseUnavailable(err)) {
    return problemBody(
      503,
      'The database is restarting, busy or unreachable; retry shortly (see Retry-After).',
      undefined,
      'database-unavailable',
      requestId,
    );
  }
  return problemBody(
    500,
    'An unexpected error occurred. It has been logged with this request id.',
    undefined,
    'internal',
    requestId,
  );
}

/** Seconds a client should wait before retrying a 503 (a database restart or a killed connection is usually over by then). */
export const RETRY_AFTER_SECONDS = 2;

/**
 * PostgreSQL SQLSTATEs of a database that is going away, starting or refusing connections: 57P01 admin_shutdown
 * (pg_terminate_backend, a fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now ("the database system is
 * starting up"), 53300 too_many_connections, and class 08 (connection exceptions); plus deadlocks and serialization
 * failures (40P01, 40001), which succeed when retried. Not server faults: 503 with Retry-After, not 500.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40P01', '40001']);
/** Socket errors of the driver (node-postgres passes Node's errno codes through). */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
]);
/** node-postgres and pool messages that carry no code. */
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|terminating connection|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|Client has encountered a connection error|Connection ended unexpectedly|Client was closed and is not queryable|ECONNRESET|ECONNREFUSED/;

/** Whether `err` (a pg error, TypeORM's QueryFailedError around one, or a socket error) means "retry later". */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } } | null;
  if (!e || typeof e !== 'object') return false;
  for (const code of [e.code, e.driverError?.code]) {
    if (typeof code !== 'string') continue;
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return (
    UNAVAILABLE_MESSAGES.test(String(e.message ?? '')) ||
    UNAVAILABLE_MESSAGES.test(String(e.driverError?.message ?? ''))
  );
}

export function sendProblem(reply: FastifyReply, body: ProblemBody): void {
  // A Problem may have set its own Retry-After (a quarantined variant: 60 s); the database's default is shorter.
  if (body.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = toProblem(err, String(request.id));
    if (body.status >= 500 && !(err instanceof Problem))
      this.logger.error({ msg: 'unhandled error', requestId: request.id, err: String((err as Error)?.stack ?? err) });
    if (err instanceof Problem && err.headers)
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
    sendProblem(reply, body);
  }
}
