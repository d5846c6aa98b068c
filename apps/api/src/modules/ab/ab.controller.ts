import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import {
  assignSchema,
  AssignInput,
  createMetricSchema,
  eventsBatchSchema,
  EventsBatchInput,
  exposuresBatchSchema,
  ExposuresBatchInput,
  layerKeySchema,
  metricKeySchema,
  MetricDefinitionInput,
  MetricPatch,
  patchMetricSchema,
  putLayerSchema,
  PutLayerInput,
  unitIdSchema,
} from './ab.schema';
import { AbStateService } from './ab-state.service';
import { AssignmentService } from './assignment.service';
import { IngestService } from './ingest.service';
import { MetricDefinitionsService } from './metric-definitions.service';
import { UnitErasureService } from './unit-erasure.service';

const schemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as object;

/** Serving-side writes: assignment, exposures of external experiments, outcome events. */
@ApiTags('assignment')
@ApiBearerAuth()
@Controller('v1')
export class AbServingController {
  constructor(
    private readonly assignment: AssignmentService,
    private readonly ingest: IngestService,
  ) {}

  @Post('assign')
  @HttpCode(200)
  @Access('serve')
  @ApiBody({ schema: schemaOf(assignSchema) })
  assign(@Body(new ZodPipe(assignSchema)) body: AssignInput) {
    return this.assignment.assign(body);
  }

  @Post('exposures')
  @HttpCode(200)
  @Access('serve')
  @ApiBody({ schema: schemaOf(exposuresBatchSchema) })
  exposures(@Body(new ZodPipe(exposuresBatchSchema)) body: ExposuresBatchInput) {
    return this.ingest.ingestExposures(body);
  }

  @Post('events')
  @HttpCode(200)
  @Access('serve')
  @ApiBody({ schema: schemaOf(eventsBatchSchema) })
  events(@Body(new ZodPipe(eventsBatchSchema)) body: EventsBatchInput) {
    return this.ingest.ingestEvents(body);
  }
}

@ApiTags('metrics')
@ApiBearerAuth()
@Controller('v1/metrics')
export class MetricDefinitionsController {
  constructor(private readonly metrics: MetricDefinitionsService) {}

  @Post()
  @Access('experiments:write')
  @ApiBody({ schema: schemaOf(createMetricSchema) })
  create(@Body(new ZodPipe(createMetricSchema)) body: MetricDefinitionInput, @CurrentPrincipal() actor: Principal) {
    return this.metrics.create(body, actor);
  }

  @Get()
  @Access('experiments:read')
  list() {
    return this.metrics.list();
  }

  @Get(':key')
  @Access('experiments:read')
  get(@Param('key', new ZodPipe(metricKeySchema, 'key')) key: string) {
    return this.metrics.get(key);
  }

  @Patch(':key')
  @Access('experiments:write')
  patch(
    @Param('key', new ZodPipe(metricKeySchema, 'key')) key: string,
    @Body(new ZodPipe(patchMetricSchema)) body: MetricPatch,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.metrics.patch(key, body, actor);
  }
}

@ApiTags('layers')
@ApiBearerAuth()
@Controller('v1/layers')
export class LayersController {
  constructor(private readonly state: AbStateService) {}

  @Get()
  @Access('experiments:read')
  list() {
    return this.state.listLayers();
  }

  @Get(':key')
  @Access('experiments:read')
  get(@Param('key', new ZodPipe(layerKeySchema, 'key')) key: string) {
    return this.state.getLayer(key);
  }

  @Put(':key')
  @Access('experiments:write')
  @ApiBody({ schema: schemaOf(putLayerSchema) })
  put(
    @Param('key', new ZodPipe(layerKeySchema, 'key')) key: string,
    @Body(new ZodPipe(putLayerSchema)) body: PutLayerInput,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.state.putLayer(key, body, actor);
  }
}

@ApiTags('units')
@ApiBearerAuth()
@Controller('v1/units')
export class UnitsController {
  constructor(private readonly erasure: UnitErasureService) {}

  @Delete(':unitId')
  @HttpCode(200)
  @Access('units:erase')
  erase(@Param('unitId', new ZodPipe(unitIdSchema, 'unitId')) unitId: string, @CurrentPrincipal() actor: Principal) {
    return this.erasure.erase(unitId, actor);
  }
}
