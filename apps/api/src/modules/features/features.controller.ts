import { Body, Controller, Get, Param, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiProduces, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { unitIdSchema } from '../ab/ab.schema';
import { experimentKeyParam } from '../experiments/experiment.schema';
import { itemIdSchema } from '../items/item.schema';
import {
  createFeatureSchema,
  FeatureDefinitionInput,
  featureNameSchema,
  FeaturePatch,
  patchFeatureSchema,
} from './feature.schema';
import { FeatureDefinitionsService } from './feature-definitions.service';
import { FeatureStoreService } from './feature-store.service';
import { TrainingExportService } from './training-export.service';

const schemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as object;

@ApiTags('features')
@ApiBearerAuth()
@Controller('v1/features')
export class FeatureDefinitionsController {
  constructor(private readonly definitions: FeatureDefinitionsService) {}

  @Post()
  @Access('experiments:write')
  @ApiBody({ schema: schemaOf(createFeatureSchema) })
  create(@Body(new ZodPipe(createFeatureSchema)) body: FeatureDefinitionInput, @CurrentPrincipal() actor: Principal) {
    return this.definitions.create(body, actor);
  }

  @Get()
  @Access('experiments:read')
  list() {
    return this.definitions.list();
  }

  @Get(':name')
  @Access('experiments:read')
  get(@Param('name', new ZodPipe(featureNameSchema, 'name')) name: string) {
    return this.definitions.get(name);
  }

  @Patch(':name')
  @Access('experiments:write')
  @ApiBody({ schema: schemaOf(patchFeatureSchema) })
  patch(
    @Param('name', new ZodPipe(featureNameSchema, 'name')) name: string,
    @Body(new ZodPipe(patchFeatureSchema)) body: FeaturePatch,
    @CurrentPrincipal() actor: Principal,
  ) {
    return this.definitions.patch(name, body, actor);
  }
}

/** Current values of an entity's stored features (what the next rank would use), defaults applied. */
@ApiTags('features')
@ApiBearerAuth()
@Controller('v1')
export class FeatureValuesController {
  constructor(private readonly store: FeatureStoreService) {}

  @Get('units/:unitId/features')
  @Access('experiments:read')
  async unit(@Param('unitId', new ZodPipe(unitIdSchema, 'unitId')) unitId: string) {
    const at = Date.now();
    return {
      unitId,
      at: new Date(at).toISOString(),
      features: (await this.store.values('unit', [unitId], at)).get(unitId)!,
    };
  }

  @Get('items/:itemId/features')
  @Access('items:read')
  async item(@Param('itemId', new ZodPipe(itemIdSchema, 'itemId')) itemId: string) {
    const at = Date.now();
    return {
      itemId,
      at: new Date(at).toISOString(),
      features: (await this.store.values('item', [itemId], at)).get(itemId)!,
    };
  }
}

export const trainingExportQuerySchema = z.strictObject({
  format: z.enum(['csv', 'ndjson']).default('ndjson'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

/** Decisions with the features as logged and their rewards, for off-policy evaluation and ranker training. */
@ApiTags('features')
@ApiBearerAuth()
@Controller('v1/experiments')
export class TrainingExportController {
  constructor(private readonly exports: TrainingExportService) {}

  @Get(':key/training-export')
  @Access('experiments:read')
  @ApiProduces('application/x-ndjson', 'text/csv')
  async export(
    @Param('key', new ZodPipe(experimentKeyParam, 'key')) key: string,
    @Query(new ZodPipe(trainingExportQuerySchema, 'query')) query: z.output<typeof trainingExportQuerySchema>,
  ) {
    const stream = await this.exports.stream(key, query.format, query.from ?? null, query.to ?? null);
    return new StreamableFile(stream, {
      type: query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      disposition: `attachment; filename="${key}-training.${query.format === 'csv' ? 'csv' : 'ndjson'}"`,
    });
  }
}
