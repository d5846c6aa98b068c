import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { shipSchema, ShipInput } from '../ab/ab.schema';
import {
  createExperimentSchema,
  ExperimentDefinition,
  experimentKeyParam,
  ExperimentPatch,
  listExperimentsQuery,
  ListExperimentsQuery,
  patchExperimentSchema,
} from './experiment.schema';
import { ExperimentsService } from './experiments.service';

const keyPipe = new ZodPipe(experimentKeyParam, 'key');

@ApiTags('experiments')
@ApiBearerAuth()
@Controller('v1/experiments')
export class ExperimentsController {
  constructor(private readonly experiments: ExperimentsService) {}

  @Post()
  @Access('experiments:write')
  @ApiBody({ schema: z.toJSONSchema(createExperimentSchema, { io: 'input', unrepresentable: 'any' }) as object })
  create(@Body(new ZodPipe(createExperimentSchema)) body: ExperimentDefinition, @CurrentPrincipal() actor: Principal) {
    return this.experiments.create(body, actor);
  }

  @Get()
  @Access('experiments:read')
  list(@Query(new ZodPipe(listExperimentsQuery, 'query')) query: ListExperimentsQuery) {
    return this.experiments.list(query);
  }

  @Get(':key')
  @Access('experiments:read')
  get(@Param('key', keyPipe) key: string) {
    return this.experiments.get(key);
  }

  @Patch(':key')
  @Access('experiments:write')
  patch(
    @Param('key', keyPipe) key: string,
    @Body(new ZodPipe(patchExperimentSchema)) body: ExperimentPatch,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.experiments.patch(key, body, actor);
  }

  @Post(':key/start')
  @HttpCode(200)
  @Access('experiments:write')
  start(@Param('key', keyPipe) key: string, @CurrentPrincipal() actor: Principal) {
    return this.experiments.transition(key, 'start', actor);
  }

  @Post(':key/pause')
  @HttpCode(200)
  @Access('experiments:write')
  pause(@Param('key', keyPipe) key: string, @CurrentPrincipal() actor: Principal) {
    return this.experiments.transition(key, 'pause', actor);
  }

  @Post(':key/stop')
  @HttpCode(200)
  @Access('experiments:write')
  stop(@Param('key', keyPipe) key: string, @CurrentPrincipal() actor: Principal) {
    return this.experiments.transition(key, 'stop', actor);
  }

  /** Serve the winning variant to everyone from now on (stops the experiment; audited). */
  @Post(':key/ship')
  @HttpCode(200)
  @Access('experiments:write')
  @ApiBody({ schema: z.toJSONSchema(shipSchema, { io: 'input' }) as object })
  ship(
    @Param('key', keyPipe) key: string,
    @Body(new ZodPipe(shipSchema)) body: ShipInput,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.experiments.ship(key, body.variant, actor);
  }
}
