import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { ApiKeysService } from './api-keys.service';
import { createApiKeySchema, CreateApiKeyInput, uuidParam } from './api-keys.schemas';

@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Access('keys:manage')
  @ApiBody({ schema: z.toJSONSchema(createApiKeySchema) as object })
  create(@Body(new ZodPipe(createApiKeySchema)) body: CreateApiKeyInput, @CurrentPrincipal() actor: Principal) {
    return this.keys.create(body, actor);
  }

  @Get()
  @Access('keys:manage')
  async list() {
    return { keys: await this.keys.list() };
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('keys:manage')
  revoke(@Param('id', new ZodPipe(uuidParam, 'id')) id: string, @CurrentPrincipal() actor: Principal) {
    return this.keys.revoke(id, actor);
  }
}
