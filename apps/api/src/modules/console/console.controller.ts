import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal, Public } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ConsoleAuthService, TooManySignIns } from './console-auth.service';
import { JsonOnlyGuard } from './json-only.guard';
import {
  CreateUserInput,
  createUserSchema,
  SetupInput,
  setupSchema,
  SignInInput,
  signInSchema,
  UpdateUserInput,
  updateUserSchema,
  userIdParam,
} from './console.schemas';
import { clearSessionCookie, CSRF_HEADER, sessionTokenOf, setSessionCookie } from './session-cookie';

const userAgent = (request: FastifyRequest) =>
  typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null;

/** Console sign-in, sessions and console users. Sessions are HTTP-only cookies; writes carry X-CSRF-Token. */
@ApiTags('console')
@Controller('v1/console')
export class ConsoleController {
  constructor(
    private readonly auth: ConsoleAuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('session')
  @Public()
  session(@Req() request: FastifyRequest) {
    return this.auth.session(sessionTokenOf(request));
  }

  @Post('setup')
  @Public()
  @UseGuards(JsonOnlyGuard)
  @ApiBody({ schema: z.toJSONSchema(setupSchema, { io: 'input' }) as object })
  async setup(
    @Body(new ZodPipe(setupSchema)) body: SetupInput,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const signedIn = await this.auth.setup(body, userAgent(request));
    setSessionCookie(reply, request, this.config, signedIn.token, this.config.sessionTtlSeconds);
    return signedIn.view;
  }

  /** 401 for a wrong pair; 429 with Retry-After (seconds) while throttled (docs/console.md); 415 unless JSON. */
  @Post('sign-in')
  @HttpCode(200)
  @Public()
  @UseGuards(JsonOnlyGuard)
  @ApiBody({ schema: z.toJSONSchema(signInSchema) as object })
  async signIn(
    @Body(new ZodPipe(signInSchema)) body: SignInInput,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const signedIn = await this.auth.signIn(body, userAgent(request), request.ip).catch((err: unknown) => {
      if (err instanceof TooManySignIns) void reply.header('retry-after', String(err.retryAfterSeconds));
      throw err;
    });
    setSessionCookie(reply, request, this.config, signedIn.token, this.config.sessionTtlSeconds);
    return signedIn.view;
  }

  @Post('sign-out')
  @HttpCode(204)
  @Public()
  async signOut(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const csrf = request.headers[CSRF_HEADER];
    await this.auth.signOut(sessionTokenOf(request), typeof csrf === 'string' ? csrf : undefined);
    clearSessionCookie(reply, request, this.config);
  }

  @Get('users')
  @ApiBearerAuth()
  @Access('users:manage')
  async listUsers() {
    return { users: await this.auth.listUsers() };
  }

  @Post('users')
  @ApiBearerAuth()
  @Access('users:manage')
  @ApiBody({ schema: z.toJSONSchema(createUserSchema, { io: 'input' }) as object })
  createUser(@Body(new ZodPipe(createUserSchema)) body: CreateUserInput, @CurrentPrincipal() actor: Principal) {
    return this.auth.createUser(body, actor);
  }

  @Patch('users/:id')
  @ApiBearerAuth()
  @Access('users:manage')
  updateUser(
    @Param('id', new ZodPipe(userIdParam, 'id')) id: string,
    @Body(new ZodPipe(updateUserSchema)) body: UpdateUserInput,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.auth.updateUser(id, body, actor);
  }

  @Delete('users/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @Access('users:manage')
  deleteUser(@Param('id', new ZodPipe(userIdParam, 'id')) id: string, @CurrentPrincipal() actor: Principal) {
    return this.auth.deleteUser(id, actor);
  }
}
