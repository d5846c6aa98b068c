import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { Problem } from '../../common/http/problem';
import { LoggedSlotRow, TrainingExportRepository } from './features.repository';

export type ExportFormat = 'csv' | 'ndjson';
const PAGE = 2000;

/**
 * The point-in-time training export: one row per shown slot, with the context and item features exactly as the
 * decision logged them (stored features included, at the values the policy saw), the propensity and the slot's
 * reward. Streamed page by page (keyset), so memory stays flat whatever the experiment's size.
 */
@Injectable()
export class TrainingExportService {
  constructor(private readonly repo: TrainingExportRepository) {}

  async stream(key: string, format: ExportFormat, from: string | null, to: string | null): Promise<Readable> {
    const found = await this.repo.experiment(key);
    if (!found) throw Problem.notFound(`No experiment with key "${key}".`);
    const exp = found;
    const repo = this.repo;
    const line =
      format === 'csv'
        ? (r: LoggedSlotRow) => csvLine(r, exp)
        : (r: LoggedSlotRow) => JSON.stringify(jsonRow(r, exp)) + '\n';
    async function* rows(): AsyncGenerator<string> {
      if (format === 'csv') yield csvHeader(exp) + '\n';
      let after: { createdAt: string; decisionId: string; position: number } | null = null;
      for (;;) {
        const page = await repo.slots(exp.id, from, to, after, PAGE);
        if (!page.length) return;
        yield page.map(line).join('');
        const last = page[page.length - 1];
        after = { createdAt: last.created_at, decisionId: last.decision_id, position: last.position };
        if (page.length < PAGE) return;
      }
    }
    return Readable.from(rows());
  }
}

const FIXED = [
  'decisionId',
  'at',
  'unitId',
  'variant',
  'modelVersion',
  'policy',
  'position',
  'itemId',
  'score',
  'propensity',
  'explored',
  'coldStart',
  'reward',
  'rewardCount',
];

function csvHeader(exp: { context: string[]; item: string[] }): string {
  return [...FIXED, ...exp.context.map((n) => `context:${n}`), ...exp.item.map((n) => `item:${n}`)]
    .map(csvCell)
    .join(',');
}

function csvLine(r: LoggedSlotRow, exp: { context: string[]; item: string[] }): string {
  const cells: Array<string | number | boolean | null> = [
    r.decision_id,
    r.at,
    r.unit_id,
    r.variant_key,
    r.model_version,
    r.policy,
    r.position,
    r.item_id,
    r.score,
    r.propensity,
    r.explored,
    r.cold_start,
    r.reward,
    r.reward_count,
    ...exp.context.map((_, i) => r.context?.[i] ?? null),
    ...exp.item.map((_, i) => r.item_features?.[i] ?? null),
  ];
  return cells.map(csvCell).join(',') + '\n';
}

function jsonRow(r: LoggedSlotRow, exp: { context: string[]; item: string[] }) {
  return {
    decisionId: r.decision_id,
    at: r.at,
    unitId: r.unit_id,
    variant: r.variant_key,
    modelVersion: r.model_version,
    policy: r.policy,
    position: r.position,
    itemId: r.item_id,
    score: r.score,
    propensity: r.propensity,
    explored: r.explored,
    coldStart: r.cold_start,
    reward: r.reward,
    rewardCount: r.reward_count,
    context: Object.fromEntries(exp.context.map((n, i) => [n, r.context?.[i] ?? null])),
    item: Object.fromEntries(exp.item.map((n, i) => [n, r.item_features?.[i] ?? null])),
    // Sequence rankers: the unit's last interacted items the ranker saw (newest first) and their item features.
    ...(r.history ? { history: r.history } : {}),
  };
}

/** RFC 4180 quoting (values are data for training, kept verbatim); null is an empty cell. */
function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
