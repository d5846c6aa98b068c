import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import {
  createTriggerSchema,
  CreateTriggerInput,
  listFiringsQuery,
  ListFiringsQuery,
  patchTriggerSchema,
  PatchTriggerInput,
  triggerIdParam,
} from './triggers.schema';
import { TriggersService } from './triggers.service';

const idPipe = new ZodPipe(triggerIdParam, 'id');
const schemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as object;

/** Behavioural triggers over unit features (each firing is a `trigger.fired` webhook delivery): admin only, audited. */
@ApiTags('triggers')
@ApiBearerAuth()
@Controller('v1/triggers')
export class TriggersController {
  constructor(private readonly triggers: TriggersService) {}

  @Post()
  @Access('webhooks:manage')
  @ApiBody({ schema: schemaOf(createTriggerSchema) })
  create(@Body(new ZodPipe(createTriggerSchema)) body: CreateTriggerInput, @CurrentPrincipal() actor: Principal) {
    return this.triggers.create(body, actor);
  }

  @Get()
  @Access('webhooks:manage')
  list() {
    return this.triggers.list();
  }

  @Get(':id')
  @Access('webhooks:manage')
  get(@Param('id', idPipe) id: string) {
    return this.triggers.get(id);
  }

  @Patch(':id')
  @Access('webhooks:manage')
  @ApiBody({ schema: schemaOf(patchTriggerSchema) })
  patch(
    @Param('id', idPipe) id: string,
    @Body(new ZodPipe(patchTriggerSchema)) body: PatchTriggerInput,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.triggers.patch(id, body, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('webhooks:manage')
  delete(@Param('id', idPipe) id: string, @CurrentPrincipal() actor: Principal) {
    return this.triggers.delete(id, actor);
  }

  /** The most recent firings, newest first, with the feature values that matched. */
  @Get(':id/firings')
  @Access('webhooks:manage')
  firings(@Param('id', idPipe) id: string, @Query(new ZodPipe(listFiringsQuery, 'query')) query: ListFiringsQuery) {
    return this.triggers.firings(id, query);
  }
}
