import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Access, CurrentPrincipal, Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { ZodPipe } from '../../common/validation/zod';
import { experimentKeyParam } from '../experiments/experiment.schema';
import {
  importDecisionsSchema,
  ImportDecisionsInput,
  OpeRequest,
  opeRequestSchema,
  opeRunIdParam,
  ShadowDecisionsQuery,
  shadowDecisionsQuerySchema,
  ShadowQuery,
  shadowQuerySchema,
} from './ope.schema';
import { OpeService } from './ope.service';

const keyPipe = new ZodPipe(experimentKeyParam, 'key');

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/experiments')
export class OpeController {
  constructor(private readonly ope: OpeService) {}

  /** Off-policy evaluation of a target policy on logged decisions: 200 with the result when it finishes within ~2 s, else 202 with the job. */
  @Post(':key/ope')
  @Access('experiments:read')
  @ApiBody({ schema: z.toJSONSchema(opeRequestSchema, { io: 'input' }) as object })
  async start(
    @Param('key', keyPipe) key: string,
    @Body(new ZodPipe(opeRequestSchema)) body: OpeRequest,
    @CurrentPrincipal() actor: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { done, run } = await this.ope.start(key, body, actor);
    reply.status(done ? 200 : 202);
    if (!done) reply.header('location', `/v1/experiments/${key}/ope/${run.id}`);
    return run;
  }

  /** Stored OPE runs, newest first (at most 100). */
  @Get(':key/ope')
  @Access('experiments:read')
  list(@Param('key', keyPipe) key: string) {
    return this.ope.runs(key);
  }

  /** Shadow variants' estimated value on the served logs they decided beside: all estimators, and IPS / DR per day and cumulative. */
  @Get(':key/ope/shadows')
  @Access('experiments:read')
  shadows(@Param('key', keyPipe) key: string, @Query(new ZodPipe(shadowQuerySchema, 'query')) q: ShadowQuery) {
    return this.ope.shadowValues(key, q);
  }

  /** A shadow variant's logged decisions, newest first: its slate and propensities beside the served slate. */
  @Get(':key/ope/shadows/:variant/decisions')
  @Access('experiments:read')
  shadowDecisions(
    @Param('key', keyPipe) key: string,
    @Param('variant', new ZodPipe(z.string().min(1).max(64), 'variant')) variant: string,
    @Query(new ZodPipe(shadowDecisionsQuerySchema, 'query')) q: ShadowDecisionsQuery,
  ) {
    return this.ope.shadowDecisions(key, variant, q);
  }

  /** One OPE run: status, progress in [0, 1], and its result when it has succeeded. */
  @Get(':key/ope/:id')
  @Access('experiments:read')
  async get(@Param('key', keyPipe) key: string, @Param('id', new ZodPipe(opeRunIdParam, 'id')) id: string) {
    const run = await this.ope.run(key, id);
    if (!run) throw Problem.notFound(`No OPE run ${id} for experiment "${key}".`);
    return run;
  }

  /** Imports decisions logged by another system (assignment "external"): validated, idempotent by decision id. */
  @Post(':key/decisions/import')
  @HttpCode(200)
  @Access('experiments:write')
  @ApiBody({ schema: z.toJSONSchema(importDecisionsSchema, { io: 'input' }) as object })
  import(@Param('key', keyPipe) key: string, @Body(new ZodPipe(importDecisionsSchema)) body: ImportDecisionsInput) {
    return this.ope.importDecisions(key, body);
  }
}
