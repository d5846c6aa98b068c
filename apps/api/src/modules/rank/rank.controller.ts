import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Access } from '../../common/auth/access';
import { ZodPipe } from '../../common/validation/zod';
import {
  rankRequestDocumentation,
  rankRequestSchema,
  RankRequest,
  rewardsRequestSchema,
  RewardsRequest,
} from './rank.schema';
import { RankService } from './rank.service';
import { RewardsService } from './rewards.service';

@ApiTags('serving')
@ApiBearerAuth()
@Controller('v1')
export class RankController {
  constructor(
    private readonly ranker: RankService,
    private readonly rewards: RewardsService,
  ) {}

  /** Ranked slots for one unit: the ranker scores every candidate, the variant's policy fills the slots. */
  @Post('rank')
  @HttpCode(200)
  @Access('serve')
  @ApiBody({ schema: z.toJSONSchema(rankRequestDocumentation, { io: 'input' }) as object })
  rank(@Body(new ZodPipe(rankRequestSchema)) body: RankRequest) {
    return this.ranker.rank(body);
  }

  /** Per-slot rewards (real numbers), idempotent by eventId; durable before the answer, learned from at once. */
  @Post('rewards')
  @HttpCode(200)
  @Access('serve')
  @ApiBody({ schema: z.toJSONSchema(rewardsRequestSchema, { io: 'input' }) as object })
  record(@Body(new ZodPipe(rewardsRequestSchema)) body: RewardsRequest) {
    return this.rewards.record(body);
  }
}
