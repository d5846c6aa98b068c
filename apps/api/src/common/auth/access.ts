import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiKeyRole } from '../../database/entities/api-key.entity';

/** What a route needs; each role is granted a fixed set of capabilities (one table, below). */
export type Capability =
  | 'keys:manage'
  | 'experiments:read'
  | 'experiments:write'
  | 'items:read'
  | 'items:write'
  | 'serve'
  | 'audit:read'
  | 'units:erase'
  | 'users:manage'
  | 'webhooks:manage';

export const ROLE_CAPABILITIES: Record<ApiKeyRole, ReadonlySet<Capability>> = {
  admin: new Set<Capability>([
    'keys:manage',
    'experiments:read',
    'experiments:write',
    'items:read',
    'items:write',
    'serve',
    'audit:read',
    'units:erase',
    'users:manage',
    'webhooks:manage',
  ]),
  editor: new Set<Capability>(['experiments:read', 'experiments:write', 'items:read', 'items:write', 'audit:read']),
  viewer: new Set<Capability>(['experiments:read', 'items:read']),
  serving: new Set<Capability>(['serve', 'items:read', 'items:write']),
};

export interface Principal {
  /** The API key's id, or `user:<id>` for a console user signed in with a session cookie. */
  keyId: string;
  name: string;
  role: ApiKeyRole;
  /** Set for console users (session cookie), absent for API keys. */
  userId?: string;
}

export const ACCESS_KEY = 'slotwise:access';
export const PUBLIC_KEY = 'slotwise:public';

/** The capability a route requires. Routes without it (and not @Public) are refused. */
export const Access = (capability: Capability) => SetMetadata(ACCESS_KEY, capability);
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The authenticated caller of this request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
