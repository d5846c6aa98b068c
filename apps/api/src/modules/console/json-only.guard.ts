import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Problem } from '../../common/http/problem';

/**
 * 415 unless the request body is declared `application/json` (parameters such as charset allowed). On sign-in and
 * setup this is the login-CSRF defence: a cross-site HTML form can only send urlencoded, multipart or text/plain
 * bodies, and a cross-site fetch with JSON needs a CORS preflight that only listed origins pass. A guard runs
 * before the body pipe, so the answer is 415 whatever the body holds.
 */
@Injectable()
export class JsonOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const type = context.switchToHttp().getRequest<FastifyRequest>().headers['content-type'];
    const media = typeof type === 'string' ? type.split(';')[0].trim().toLowerCase() : '';
    if (media !== 'application/json')
      throw new Problem(415, 'Send JSON with Content-Type: application/json.', undefined, 'unsupported-media-type');
    return true;
  }
}
