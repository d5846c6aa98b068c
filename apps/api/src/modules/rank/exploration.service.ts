import { Injectable } from '@nestjs/common';
import { Problem } from '../../common/http/problem';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import type { ExperimentSettings } from '../experiments/experiment.view';
import { ExplorationRepository, totalOf } from './exploration.repository';

export interface ExplorationSection {
  decisions: number;
  slots: number;
  exploreRate: number | null;
  coldStartRate: number | null;
  coldItems: number;
  coldItemsShown: number;
  graduatedItems: number;
  medianDecisionsToGraduate: number | null;
  coldStartThreshold: number;
  variants: Array<{ variant: string; decisions: number; slots: number; exploreRate: number | null; coldStartRate: number | null }>;
}

@Injectable()
export class ExplorationService {
  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly exploration: ExplorationRepository,
  ) {}

  /** The report's `exploration` section for a ranking experiment, overall and per variant, in [from, to). */
  async section(key: string, from: Date | null, to: Date | null): Promise<ExplorationSection | null> {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    if (e.kind !== 'ranking') return null;
    const threshold = (e.settings as unknown as ExperimentSettings).coldStartThreshold;
    const variants = await this.exploration.byVariant(e.id, from, to);
    const total = totalOf(variants);
    const cold = await this.exploration.coldStart(e.id, threshold, from, to);
    return {
      decisions: total.decisions,
      slots: total.slots,
      exploreRate: total.exploreRate,
      coldStartRate: total.coldStartRate,
      ...cold,
      coldStartThreshold: threshold,
      variants: variants.map((v) => ({ variant: v.variant, decisions: v.decisions, slots: v.slots, exploreRate: v.exploreRate, coldStartRate: v.coldStartRate })),
    };
  }
}
