import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/auth/access';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller()
export class ObservabilityController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  /** 200 only when the database answers and this process may serve (503 e.g. after its replica id was taken over). */
  @Get('health')
  @Public()
  async check(@Res({ passthrough: true }) reply: FastifyReply) {
    const report = await this.health.check();
    reply.status(report.db === 'up' && !report.unavailable ? 200 : 503);
    return report;
  }

  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  render() {
    return this.metrics.render();
  }
}
