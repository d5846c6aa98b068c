import { Injectable } from '@nestjs/common';
import { Problem } from '../../common/http/problem';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import { DecisionLogRepository } from './decision-log.repository';
import type { DecisionsQuery, LoggedDecision } from './decision-log.schema';

export const DEFAULT_DECISIONS_PAGE = 25;

@Injectable()
export class DecisionLogService {
  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly log: DecisionLogRepository,
  ) {}

  /** Recent decisions with their logged slots, newest first; `nextBefore` pages further back (null on the last page). */
  async recent(
    key: string,
    query: DecisionsQuery,
  ): Promise<{ decisions: LoggedDecision[]; nextBefore: string | null }> {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    if (query.variant !== undefined && !e.variants.some((v) => v.key === query.variant)) {
      throw Problem.validation([
        {
          path: 'query.variant',
          message: `"${query.variant}" is not a variant of ${key} (${e.variants.map((v) => v.key).join(', ')})`,
        },
      ]);
    }
    const limit = query.limit ?? DEFAULT_DECISIONS_PAGE;
    // `before` goes to SQL as sent: a Date would drop the microseconds that `at` (and so `nextBefore`) carries.
    const decisions =
      e.kind === 'ranking' ? await this.log.recent(e.id, limit, query.before ?? null, query.variant ?? null) : [];
    return { decisions, nextBefore: decisions.length === limit ? decisions[decisions.length - 1].at : null };
  }
}
