import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Access } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import { experimentKeyParam } from '../experiments/experiment.schema';
import { reportCsv, reportHtml } from './report-render';
import {
  PowerInput,
  powerSchema,
  ReportOptionsQuery,
  reportOptionsSchema,
  ReportQuery,
  reportQuerySchema,
  TimeseriesQuery,
  timeseriesQuerySchema,
} from './reports.schema';
import { ReportsService } from './reports.service';

const keyPipe = new ZodPipe(experimentKeyParam, 'key');

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/experiments')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  /** The statistical report (JSON, or CSV with `?format=csv`). */
  @Get(':key/report')
  @Access('experiments:read')
  @ApiProduces('application/json', 'text/csv')
  async report(
    @Param('key', keyPipe) key: string,
    @Query(new ZodPipe(reportQuerySchema, 'query')) query: ReportQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { format, ...options } = query;
    const report = await this.reports.report(key, options);
    if (format !== 'csv') return report;
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="${key}-report.csv"`);
    return reportCsv(report);
  }

  /** A printable, self-contained HTML page of the report (inline CSS, no scripts or external assets). */
  @Get(':key/report.html')
  @Access('experiments:read')
  @ApiProduces('text/html')
  async html(
    @Param('key', keyPipe) key: string,
    @Query(new ZodPipe(reportOptionsSchema, 'query')) query: ReportOptionsQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const report = await this.reports.report(key, query);
    reply.header('content-type', 'text/html; charset=utf-8');
    return reportHtml(report);
  }

  /** Recompute the report now (running experiments: also replaces the cached one). */
  @Post(':key/report/refresh')
  @HttpCode(200)
  @Access('experiments:read')
  refresh(
    @Param('key', keyPipe) key: string,
    @Query(new ZodPipe(reportOptionsSchema, 'query')) query: ReportOptionsQuery,
  ) {
    return this.reports.refresh(key, query);
  }

  /** Per day: cumulative units, means, lift and CI per comparison, and exploration figures for ranking experiments. */
  @Get(':key/report/timeseries')
  @Access('experiments:read')
  timeseries(
    @Param('key', keyPipe) key: string,
    @Query(new ZodPipe(timeseriesQuerySchema, 'query')) query: TimeseriesQuery,
  ) {
    return this.reports.timeseries(key, query);
  }
}

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/stats')
export class StatsController {
  constructor(private readonly reports: ReportsService) {}

  /** Sample size per arm for an MDE, or the MDE for a sample size (two-sided z-test, as statsmodels NormalIndPower). */
  @Post('power')
  @HttpCode(200)
  @Access('experiments:read')
  @ApiBody({ schema: z.toJSONSchema(powerSchema, { io: 'input', unrepresentable: 'any' }) as object })
  power(@Body(new ZodPipe(powerSchema)) body: PowerInput) {
    return this.reports.power(body);
  }
}
