import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem, PROBLEM_CONTENT_TYPE, ProblemBody, problemBody } from './problem';

/** Turns any error into a problem+json answer; unknown errors become a logged 500 without internals. */
export function toProblem(err: unknown, requestId?: string): ProblemBody {
  if (err instanceof Problem) return err.body(requestId);
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? err.message);
    return problemBody(status, Array.isArray(message) ? message.join('; ') : String(message), undefined, undefined, requestId);
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
  const message = String((err as Error)?.message ?? '');
  if (/timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED/.test(message)) {
    return problemBody(503, 'The database is busy or unreachable; retry shortly.', undefined, 'database-unavailable', requestId);
  }
  return problemBody(500, 'An unexpected error occurred. It has been logged with this request id.', undefined, 'internal', requestId);
}

export function sendProblem(reply: FastifyReply, body: ProblemBody): void {
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
    if (body.status >= 500 && !(err instanceof Problem)) this.logger.error({ msg: 'unhandled error', requestId: request.id, err: String((err as Error)?.stack ?? err) });
    if (err instanceof Problem && err.headers) for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
    sendProblem(reply, body);
  }
}
