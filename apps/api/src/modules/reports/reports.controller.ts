import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Access } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { experimentKeyParam } from '../experiments/experiment.schema';
import { ReportQuery, reportQuerySchema } from './reports.schema';
import { ReportsService } from './reports.service';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/experiments')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get(':key/report')
  @Access('experiments:read')
  report(@Param('key', new ZodPipe(experimentKeyParam, 'key')) key: string, @Query(new ZodPipe(reportQuerySchema, 'query')) query: ReportQuery) {
    return this.reports.report(key, query);
  }
}
