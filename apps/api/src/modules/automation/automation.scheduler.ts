import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicPass } from '../../common/periodic-pass';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { ExperimentSettings } from '../experiments/experiment.view';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import { ExperimentsService } from '../experiments/experiments.service';
import { AutomationEvaluation, ReportsService } from '../reports/reports.service';
import { WebhooksRepository } from '../webhooks';
import { AutomationRepository } from './automation.repository';

/** The findings the evaluation announces (each once per phase). */
const ANNOUNCED = [
  'experiment.srm_flagged',
  'experiment.guardrail_breached',
  'experiment.primary_significant',
] as const;

/** Running experiments evaluated per pass at most. */
const PER_PASS = 200;

export interface PassResult {
  evaluated: number;
  announced: number;
  stopped: string[];
}

/**
 * The scheduled evaluation of running experiments (every AUTOMATION_INTERVAL_MS, on every replica). Per experiment it
 * computes the always-valid evaluation (ReportsService.evaluation: the report's own SRM test and guardrail rule),
 * then, in one short transaction under the experiment's advisory lock (pg_try_advisory_xact_lock; a replica that
 * does not get it skips), announces each new finding once per phase — `experiment.srm_flagged`,
 * `experiment.guardrail_breached`, `experiment.primary_significant` — and, when the experiment's `autoStop` option
 * applies, pauses or stops it (ExperimentsService.autoStop: audited, `experiment.auto_stopped` webhook with the
 * evidence). The statistics run outside any transaction (the embedded database has a single connection).
 */
@Injectable()
export class AutomationScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(AutomationScheduler.name);
  private readonly runner: PeriodicPass<PassResult>;

  constructor(
    private readonly repo: AutomationRepository,
    private readonly experimentsRepo: ExperimentsRepository,
    private readonly experiments: ExperimentsService,
    private readonly reports: ReportsService,
    private readonly outbox: WebhooksRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.runner = new PeriodicPass({
      intervalMs: config.automationIntervalMs,
      log: this.log,
      what: 'automation pass',
      pass: () => this.pass(),
    });
  }

  onApplicationBootstrap(): void {
    this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  /** One pass over the running experiments. Concurrent calls share the pass in progress. */
  tick(): Promise<PassResult> {
    return this.runner.run();
  }

  private async pass(): Promise<PassResult> {
    const result: PassResult = { evaluated: 0, announced: 0, stopped: [] };
    const announcing = await this.outbox.anySubscribed(ANNOUNCED);
    for (const key of await this.repo.running(PER_PASS)) {
      if (this.runner.stopped) break;
      try {
        await this.evaluate(key, announcing, result);
      } catch (err) {
        this.log.warn(`evaluating ${key} failed: ${String(err)}`);
      }
    }
    return result;
  }

  private async evaluate(key: string, announcing: boolean, result: PassResult): Promise<void> {
    const e = await this.experimentsRepo.findByKey(key);
    if (!e || e.status !== 'running') return;
    const auto = (e.settings as unknown as ExperimentSettings).autoStop;
    // Nobody listens and nothing may act: skip the statistics.
    if (!auto && !announcing) return;
    const ev = await this.reports.evaluation(e);
    result.evaluated++;
    result.announced += await this.repo.transaction(async (m) => {
      if (!(await this.repo.tryLock(m, e.id))) return 0;
      let n = 0;
      const announce = async (
        signal: string,
        subject: string,
        type: Parameters<WebhooksRepository['enqueue']>[1],
        data: Record<string, unknown>,
      ) => {
        if (await this.repo.recordSignal(m, e.id, ev.phase, signal, subject, data)) {
          await this.outbox.enqueue(m, type, { experiment: key, phase: ev.phase, ...data });
          n++;
        }
      };
      if (ev.srm.flagged)
        await announce('srm', '', 'experiment.srm_flagged', {
          pValue: ev.srm.pValue,
          observed: ev.srm.observed,
          expected: ev.srm.expected,
        });
      for (const b of ev.guardrailBreaches)
        await announce('guardrail', `${b.variant}/${b.metric}`, 'experiment.guardrail_breached', { ...b });
      for (const s of ev.primarySignificant)
        await announce('significant', s.variant, 'experiment.primary_significant', { ...s });
      return n;
    });

    if (!auto) return;
    const decision = autoStopDecision(auto.on, ev);
    if (!decision) return;
    const evidence = {
      phase: ev.phase,
      evaluatedAt: ev.generatedAt,
      basis: 'always-valid',
      srm: ev.srm,
      guardrailBreaches: ev.guardrailBreaches,
    };
    if (await this.experiments.autoStop(key, auto.action, decision, evidence, (m) => this.repo.tryLock(m, e.id))) {
      this.log.log(`auto-${auto.action} of ${key}: ${decision}`);
      result.stopped.push(key);
    }
  }
}

/** Why the autoStop option acts on this evaluation (one sentence), or null when it does not. */
export function autoStopDecision(on: Array<'guardrail' | 'srm'>, ev: AutomationEvaluation): string | null {
  const reasons: string[] = [];
  if (on.includes('guardrail')) {
    for (const b of ev.guardrailBreaches) {
      reasons.push(
        `guardrail "${b.metric}" of "${b.variant}" is beyond its non-inferiority margin ${b.nonInferiorityMargin} (always-valid interval ${b.ci.lower} to ${b.ci.upper}, ${b.direction})`,
      );
    }
  }
  if (on.includes('srm') && ev.srm.flagged) reasons.push(`sample ratio mismatch (p = ${ev.srm.pValue})`);
  return reasons.length ? `${reasons.join('; ')}.` : null;
}
