import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { WEBHOOK_EVENT_TYPES } from './event-types';
import {
  createWebhookSchema,
  CreateWebhookInput,
  deliveryIdParam,
  listDeliveriesQuery,
  ListDeliveriesQuery,
  patchWebhookSchema,
  PatchWebhookInput,
  webhookIdParam,
} from './webhooks.schema';
import { WebhooksService } from './webhooks.service';

const idPipe = new ZodPipe(webhookIdParam, 'id');
const deliveryPipe = new ZodPipe(deliveryIdParam, 'deliveryId');

/** Signed webhooks (Standard Webhooks): admin only. */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @Access('webhooks:manage')
  @ApiBody({ schema: z.toJSONSchema(createWebhookSchema, { io: 'input' }) as object })
  create(@Body(new ZodPipe(createWebhookSchema)) body: CreateWebhookInput, @CurrentPrincipal() actor: Principal) {
    return this.webhooks.create(body, actor);
  }

  @Get()
  @Access('webhooks:manage')
  async list() {
    return { webhooks: await this.webhooks.list(), eventTypes: WEBHOOK_EVENT_TYPES };
  }

  @Get(':id')
  @Access('webhooks:manage')
  get(@Param('id', idPipe) id: string) {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @Access('webhooks:manage')
  @ApiBody({ schema: z.toJSONSchema(patchWebhookSchema, { io: 'input', unrepresentable: 'any' }) as object })
  patch(
    @Param('id', idPipe) id: string,
    @Body(new ZodPipe(patchWebhookSchema)) body: PatchWebhookInput,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.webhooks.patch(id, body, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @Access('webhooks:manage')
  delete(@Param('id', idPipe) id: string, @CurrentPrincipal() actor: Principal) {
    return this.webhooks.delete(id, actor);
  }

  @Get(':id/deliveries')
  @Access('webhooks:manage')
  deliveries(
    @Param('id', idPipe) id: string,
    @Query(new ZodPipe(listDeliveriesQuery, 'query')) query: ListDeliveriesQuery,
  ) {
    return this.webhooks.deliveries(id, query);
  }

  @Get(':id/deliveries/:deliveryId')
  @Access('webhooks:manage')
  delivery(@Param('id', idPipe) id: string, @Param('deliveryId', deliveryPipe) deliveryId: string) {
    return this.webhooks.delivery(id, deliveryId);
  }

  /** Sends a `webhook.test` event to this webhook now (202: enqueued durably; see its deliveries). */
  @Post(':id/test')
  @HttpCode(202)
  @Access('webhooks:manage')
  test(@Param('id', idPipe) id: string, @CurrentPrincipal() actor: Principal) {
    return this.webhooks.sendTest(id, actor);
  }

  /** Delivers this delivery again (same webhook-id), now, with a fresh 24 h retry window. */
  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @Access('webhooks:manage')
  redeliver(
    @Param('id', idPipe) id: string,
    @Param('deliveryId', deliveryPipe) deliveryId: string,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.webhooks.redeliver(id, deliveryId, actor);
  }
}
