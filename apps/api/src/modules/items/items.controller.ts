import { Body, Controller, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { batchItemsSchema, BatchItemsInput, itemIdSchema, putItemSchema, PutItemInput } from './item.schema';
import { ItemsService } from './items.service';

const idPipe = new ZodPipe(itemIdSchema, 'id');

@ApiTags('items')
@ApiBearerAuth()
@Controller('v1/items')
export class ItemsController {
  constructor(private readonly items: ItemsService) {}

  @Put(':id')
  @Access('items:write')
  @ApiBody({ schema: z.toJSONSchema(putItemSchema, { io: 'input' }) as object })
  async put(
    @Param('id', idPipe) id: string,
    @Body(new ZodPipe(putItemSchema)) body: PutItemInput,
    @CurrentPrincipal() actor: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { item, created } = await this.items.put(id, body, actor);
    reply.status(created ? 201 : 200);
    return item;
  }

  @Post('batch')
  @HttpCode(200)
  @Access('items:write')
  @ApiBody({ schema: z.toJSONSchema(batchItemsSchema, { io: 'input' }) as object })
  batch(@Body(new ZodPipe(batchItemsSchema)) body: BatchItemsInput, @CurrentPrincipal() actor: Principal) {
    return this.items.putBatch(body, actor);
  }

  @Get(':id')
  @Access('items:read')
  get(@Param('id', idPipe) id: string) {
    return this.items.get(id);
  }
}
