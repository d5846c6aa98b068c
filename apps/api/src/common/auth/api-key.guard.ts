import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Problem } from '../http/problem';
import { ApiKeysService } from '../../modules/api-keys/api-keys.service';
import { ConsoleAuthService, CSRF_HEADER, sessionTokenOf } from '../../modules/console';
import { ACCESS_KEY, Capability, Principal, PUBLIC_KEY, ROLE_CAPABILITIES } from './access';

/**
 * Bearer API keys on every route; a route must declare @Access(capability) or @Public(). Without an Authorization
 * header, a console session cookie is accepted instead (same role capabilities; writes need its X-CSRF-Token).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly consoleAuth: ConsoleAuthService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const capability = this.reflector.getAllAndOverride<Capability | undefined>(ACCESS_KEY, targets);
    const request = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const header = request.headers.authorization;
    const sessionToken = header ? null : sessionTokenOf(request);
    if (sessionToken) {
      const csrf = request.headers[CSRF_HEADER];
      const principal = await this.consoleAuth.principalFor(
        sessionToken,
        request.method,
        typeof csrf === 'string' ? csrf : undefined,
      );
      request.principal = principal;
      if (!capability) throw Problem.forbidden('This route is not open to console sessions.');
      if (!ROLE_CAPABILITIES[principal.role].has(capability))
        throw Problem.forbidden(`A console user with role "${principal.role}" may not do this (needs ${capability}).`);
      return true;
    }
    if (!header) throw Problem.unauthorized('Send an API key as "Authorization: Bearer <key>".');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw Problem.unauthorized('The Authorization header must be "Bearer <key>".');
    const principal = await this.keys.authenticate(match[1]);
    if (!principal) throw Problem.unauthorized('The API key is not valid or has been revoked.');
    request.principal = principal;
    if (!capability) throw Problem.forbidden('This route is not open to API keys.');
    if (!ROLE_CAPABILITIES[principal.role].has(capability)) {
      throw Problem.forbidden(`A key with role "${principal.role}" may not do this (needs ${capability}).`);
    }
    return true;
  }
}
