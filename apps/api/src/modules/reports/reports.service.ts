import { Injectable } from '@nestjs/common';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import { Problem } from '../../common/http/problem';
import { ExplorationService } from '../rank/exploration.service';
import { ReportQuery } from './reports.schema';

@Injectable()
export class ReportsService {
  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly exploration: ExplorationService,
  ) {}

  /** The experiment report. This version carries the exploration section; the statistics land with the stats engine. */
  async report(key: string, query: ReportQuery) {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    const from = query.from ? new Date(query.from) : null;
    const to = query.to ? new Date(query.to) : null;
    return {
      experiment: e.key,
      status: e.status,
      generatedAt: new Date().toISOString(),
      window: { from: from?.toISOString() ?? null, to: to?.toISOString() ?? null },
      exploration: await this.exploration.section(key, from, to),
    };
  }
}
