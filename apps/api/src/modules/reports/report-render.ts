/**
 * Renderings of the report JSON: CSV (one row per metric × variant) and a printable, self-contained HTML page
 * (inline CSS, no scripts, no external assets). Numbers are written at full precision in CSV and rounded for
 * reading in HTML.
 */

import type { Interval } from '@slotwise/stats';
import type { ComparisonResult, VariantStats } from './report-stats';

/** What the renderings read of a variant row and a comparison (the report computes more). */
type VariantRow = Pick<VariantStats, 'variant' | 'units' | 'sum' | 'mean' | 'stdDev' | 'denominatorSum'>;
type ComparisonRow = Pick<
  ComparisonResult,
  | 'variant'
  | 'baseline'
  | 'absoluteLift'
  | 'relativeLift'
  | 'relativeLiftReason'
  | 'ci'
  | 'relativeCi'
  | 'pValue'
  | 'adjustedPValue'
  | 'relativeAdjustedPValue'
  | 'significant'
  | 'significance'
  | 'sequential'
  | 'bayesian'
  | 'cuped'
  | 'reason'
>;
interface MetricBlock {
  metric: string;
  role: string;
  type: string;
  direction: string;
  guardrailMargin?: number;
  variants: VariantRow[];
  comparisons: ComparisonRow[];
}
interface ReportView {
  experiment: string;
  status: string;
  generatedAt: string;
  alpha: number;
  phase: number;
  baseline: string;
  window: { from: string | null; to: string | null; end: string };
  options: {
    correction: string;
    cuped: boolean;
    sequential: boolean;
    tuningN: number;
    segment: { attribute: string; value: string } | null;
  };
  srm: {
    observed: Record<string, number>;
    expected: Record<string, number> | null;
    chiSquare: number | null;
    pValue: number | null;
    flagged: boolean;
    reason: string | null;
  };
  health: {
    multipleExposures: { units: number; totalUnits: number; fraction: number | null; flagged: boolean };
    unitsPerDay: number | null;
  };
  recommendation: {
    decision: string;
    variant: string | null;
    reason: string;
    details: string[];
    estimatedDays: number | null;
    basis: string;
    basisReason: string;
  };
  metrics: MetricBlock[];
  exploration: Record<string, unknown> | null;
}

export const CSV_COLUMNS = [
  'metric',
  'role',
  'variant',
  'baseline',
  'units',
  'sum',
  'mean',
  'stdDev',
  'absoluteLift',
  'ciLower',
  'ciUpper',
  'relativeLift',
  'relativeCiLower',
  'relativeCiUpper',
  'pValue',
  'adjustedPValue',
  'significant',
  'relativeAdjustedPValue',
  'relativeSignificant',
  'sequentialPValue',
  'sequentialCiLower',
  'sequentialCiUpper',
  'chanceToBeatBaseline',
  'expectedLoss',
  'reason',
  'relativeLiftReason',
] as const;

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One header row, then one row per metric and variant; the baseline's comparison cells are empty. */
export function reportCsv(raw: Record<string, unknown>): string {
  const r = raw as unknown as ReportView;
  const lines = [CSV_COLUMNS.join(',')];
  for (const m of r.metrics) {
    for (const v of m.variants) {
      const c = m.comparisons.find((x) => x.variant === v.variant);
      const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
        metric: m.metric,
        role: m.role,
        variant: v.variant,
        baseline: c ? c.baseline : '',
        units: v.units,
        sum: v.sum,
        mean: v.mean,
        stdDev: v.stdDev,
        absoluteLift: c?.absoluteLift,
        ciLower: c?.ci?.lower,
        ciUpper: c?.ci?.upper,
        relativeLift: c?.relativeLift,
        relativeCiLower: c?.relativeCi?.lower,
        relativeCiUpper: c?.relativeCi?.upper,
        pValue: c?.pValue,
        adjustedPValue: c?.adjustedPValue,
        significant: c ? c.significant : '',
        relativeAdjustedPValue: c?.relativeAdjustedPValue,
        relativeSignificant: c?.significance?.relative ?? '',
        sequentialPValue: c?.sequential.pValue,
        sequentialCiLower: c?.sequential.ci?.lower,
        sequentialCiUpper: c?.sequential.ci?.upper,
        chanceToBeatBaseline: c?.bayesian.chanceToBeatBaseline,
        expectedLoss: c?.bayesian.expectedLoss,
        reason: c?.reason,
        relativeLiftReason: c?.relativeLiftReason,
      };
      lines.push(CSV_COLUMNS.map((k) => csvCell(row[k])).join(','));
    }
  }
  return lines.join('\r\n') + '\r\n';
}

const esc = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

/** Numbers for reading: 6 significant digits (plain notation where sensible), '–' for null. */
export function fmt(x: unknown, digits = 6): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e9 || a < 1e-4) return x.toExponential(digits - 1);
  return String(Number(x.toPrecision(digits)));
}
const pct = (x: number | null | undefined) =>
  typeof x === 'number' && Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${fmt(100 * x, 4)} %` : '–';
const interval = (i: Interval | null | undefined, f: (x: number) => string = (x) => fmt(x)) =>
  i ? `${f(i.lower)} to ${f(i.upper)}` : '–';

const STYLE = `
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1b1f24;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.8rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}.muted{color:#57606a}.meta span{margin-right:1.2rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:right;vertical-align:top}th{background:#f6f8fa}
td:first-child,th:first-child{text-align:left}.sig{font-weight:600}.bad{color:#b42318}.good{color:#067647}
.decision{border:2px solid #57606a;border-radius:6px;padding:.6rem .9rem;margin:1rem 0}
.decision.ship{border-color:#067647}.decision.rollback,.decision.unhealthy{border-color:#b42318}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table{break-inside:avoid}}`;

/** The printable report page: summary, recommendation, health, one table of variants and one of comparisons per metric, exploration. */
export function reportHtml(raw: Record<string, unknown>): string {
  const r = raw as unknown as ReportView;
  const level = `${fmt(100 * (1 - r.alpha), 4)} %`;
  const parts: string[] = [];
  parts.push(`<h1>Experiment report: ${esc(r.experiment)}</h1>`);
  parts.push(
    `<p class="meta muted"><span>status ${esc(r.status)}</span><span>phase ${esc(r.phase)}</span><span>generated ${esc(r.generatedAt)}</span><span>α = ${esc(r.alpha)}</span>` +
      `<span>correction ${esc(r.options.correction)}</span><span>CUPED ${r.options.cuped ? 'on' : 'off'}</span><span>${r.options.sequential ? 'always-valid (sequential) decisions' : 'fixed-horizon decisions'}</span>` +
      `${r.options.segment ? `<span>segment ${esc(r.options.segment.attribute)} = ${esc(r.options.segment.value)}</span>` : ''}` +
      `<span>window ${esc(r.window.from ?? 'start')} – ${esc(r.window.to ?? r.window.end)}</span></p>`,
  );
  const rec = r.recommendation;
  parts.push(
    `<div class="decision ${esc(rec.decision)}"><strong>Recommendation: ${esc(rec.decision)}${rec.variant ? ` (${esc(rec.variant)})` : ''}</strong><br>${esc(rec.reason)}` +
      (rec.details.length ? `<ul>${rec.details.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : '') +
      `<br><span class="muted">Basis: ${rec.basis === 'always-valid' ? 'always-valid (sequential) intervals' : 'fixed-horizon tests'} — ${esc(rec.basisReason)}</span>` +
      `</div>`,
  );
  parts.push(`<h2>Health</h2><table><thead><tr><th>Check</th><th>Value</th><th>Flagged</th></tr></thead><tbody>`);
  const srm = r.srm;
  parts.push(
    `<tr><td>Sample ratio (χ² = ${fmt(srm.chiSquare)}, p = ${fmt(srm.pValue)})</td><td>${Object.entries(srm.observed)
      .map(([k, v]) => `${esc(k)} ${esc(v)}${srm.expected ? ` (expected ${fmt(srm.expected[k], 5)})` : ''}`)
      .join('<br>')}</td><td class="${srm.flagged ? 'bad' : ''}">${srm.flagged ? 'yes' : 'no'}</td></tr>`,
  );
  const me = r.health.multipleExposures;
  parts.push(
    `<tr><td>Units exposed to several variants</td><td>${esc(me.units)} of ${esc(me.totalUnits)} (${pct(me.fraction)})</td><td class="${me.flagged ? 'bad' : ''}">${me.flagged ? 'yes' : 'no'}</td></tr>`,
  );
  parts.push(`<tr><td>New units per day</td><td>${fmt(r.health.unitsPerDay, 4)}</td><td></td></tr></tbody></table>`);

  for (const m of r.metrics) {
    parts.push(
      `<h2>${esc(m.metric)} <span class="muted">(${esc(m.role)}, ${esc(m.type)}, ${esc(m.direction)}${m.guardrailMargin !== undefined ? `, margin ${pct(m.guardrailMargin)}` : ''})</span></h2>`,
    );
    const ratio = m.variants.some((v) => v.denominatorSum !== undefined);
    parts.push(
      `<table><thead><tr><th>Variant</th><th>Units</th><th>Sum</th>${ratio ? '<th>Denominator</th>' : ''}<th>Mean</th><th>Std. dev.</th></tr></thead><tbody>` +
        m.variants
          .map(
            (v) =>
              `<tr><td>${esc(v.variant)}</td><td>${esc(v.units)}</td><td>${fmt(v.sum)}</td>${ratio ? `<td>${fmt(v.denominatorSum)}</td>` : ''}<td>${fmt(v.mean)}</td><td>${fmt(v.stdDev)}</td></tr>`,
          )
          .join('') +
        `</tbody></table>`,
    );
    if (m.comparisons.length) {
      parts.push(
        `<table><thead><tr><th>Variant vs baseline</th><th>Absolute lift</th><th>${level} CI</th><th>Relative lift</th><th>${level} CI</th><th>p-value</th><th>Adjusted p</th>` +
          `<th>Always-valid p</th><th>Always-valid CI</th><th>Chance to beat</th><th>Expected loss</th></tr></thead><tbody>` +
          m.comparisons
            .map(
              (c) =>
                `<tr class="${c.significant ? 'sig' : ''}"><td>${esc(c.variant)} vs ${esc(c.baseline)}${c.significant ? ' ★' : ''}${c.reason ? `<br><span class="muted">${esc(c.reason)}</span>` : ''}${c.cuped ? `<br><span class="muted">CUPED ${c.cuped.applied ? `θ = ${fmt(c.cuped.theta, 4)}, variance −${pct(c.cuped.varianceReduction)}` : esc(c.cuped.note)}</span>` : ''}</td>` +
                `<td>${fmt(c.absoluteLift)}</td><td>${interval(c.ci)}</td><td>${c.relativeLift === null && c.relativeLiftReason ? `–<br><span class="muted">${esc(c.relativeLiftReason)}</span>` : pct(c.relativeLift)}${c.significance?.agree === false ? `<br><span class="muted">${c.significance.relative ? 'significant' : 'not significant'} on the relative scale</span>` : ''}</td><td>${interval(c.relativeCi, pct)}</td>` +
                `<td>${fmt(c.pValue)}</td><td>${fmt(c.adjustedPValue)}</td><td>${fmt(c.sequential.pValue)}</td><td>${interval(c.sequential.ci)}</td>` +
                `<td>${pct(c.bayesian.chanceToBeatBaseline)}</td><td>${fmt(c.bayesian.expectedLoss)}</td></tr>`,
            )
            .join('') +
          `</tbody></table>`,
      );
    }
  }
  const ex = r.exploration as
    | (Record<string, number | null> & {
        variants?: Array<{
          variant: string;
          decisions: number;
          slots: number;
          exploreRate: number | null;
          coldStartRate: number | null;
        }>;
      })
    | null;
  if (ex) {
    parts.push(
      `<h2>Exploration</h2><table><thead><tr><th>Scope</th><th>Decisions</th><th>Slots</th><th>Explore rate</th><th>Cold-start rate</th></tr></thead><tbody>`,
    );
    parts.push(
      `<tr><td>all variants</td><td>${esc(ex.decisions)}</td><td>${esc(ex.slots)}</td><td>${pct(ex.exploreRate)}</td><td>${pct(ex.coldStartRate)}</td></tr>`,
    );
    for (const v of ex.variants ?? [])
      parts.push(
        `<tr><td>${esc(v.variant)}</td><td>${esc(v.decisions)}</td><td>${esc(v.slots)}</td><td>${pct(v.exploreRate)}</td><td>${pct(v.coldStartRate)}</td></tr>`,
      );
    parts.push(`</tbody></table>`);
    parts.push(
      `<p class="muted">Cold items ${esc(ex.coldItems)} (shown ${esc(ex.coldItemsShown)}), graduated ${esc(ex.graduatedItems)}, median decisions to graduate ${fmt(ex.medianDecisionsToGraduate)}, threshold ${esc(ex.coldStartThreshold)} rewarded impressions.</p>`,
    );
  }
  parts.push(
    `<p class="muted">Welch's t-test for absolute lifts, delta method for relative lifts and ratio metrics, ${esc(r.options.correction)} correction across every metric and variant, mSPRT always-valid p-values and confidence sequences (N* = ${esc(r.options.tuningN)}), Gaussian Bayesian chance to beat the baseline (absolute difference). ★ = the ${r.options.sequential ? 'always-valid' : 'fixed-horizon'} test of the absolute difference is significant at α = ${esc(r.alpha)} after adjustment; the relative test (delta method) can disagree near the threshold and is noted when it does.</p>`,
  );
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Report: ${esc(r.experiment)}</title><style>${STYLE}</style></head><body>${parts.join('\n')}</body></html>\n`;
}
