import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Access } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { experimentKeyParam } from '../experiments/experiment.schema';
import { DecisionsQuery, decisionsQuerySchema } from './decision-log.schema';
import { DecisionLogService } from './decision-log.service';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/experiments')
export class DecisionLogController {
  constructor(private readonly log: DecisionLogService) {}

  /** The decision log: recent decisions with their shown slots, propensities, rewards and what was stored about each slot. */
  @Get(':key/decisions')
  @Access('experiments:read')
  recent(
    @Param('key', new ZodPipe(experimentKeyParam, 'key')) key: string,
    @Query(new ZodPipe(decisionsQuerySchema, 'query')) query: DecisionsQuery,
  ) {
    return this.log.recent(key, query);
  }
}
