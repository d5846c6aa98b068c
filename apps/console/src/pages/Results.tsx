import { useEffect, useMemo } from 'react';
import { Chart, PALETTE } from '../components/Chart';
import { Badge, Banner, Button, Card, EmptyState, ErrorBox, Spinner, useAsync } from '../components/ui';
import { client } from '../lib/api';
import { dateTime, int, isNum, num, pct, pValue, signed, signedPct } from '../lib/format';
import { Link } from '../lib/router';
import {
  Comparison,
  Experiment,
  MetricReport,
  multipleExposures,
  recommendation,
  Report,
  stepLabel,
  Timeseries,
  totalUnits,
} from '../lib/types';

const VERDICT_TONE = {
  ship: 'green',
  rollback: 'red',
  'keep-running': 'blue',
  unhealthy: 'red',
  'no-data': 'blue',
} as const;
const VERDICT_LABEL = {
  ship: 'Ship',
  rollback: 'Roll back',
  'keep-running': 'Keep running',
  unhealthy: 'Unhealthy',
  'no-data': 'Waiting for data',
} as const;
const BASIS_LABEL = {
  'always-valid': 'Always-valid (sequential) intervals',
  'fixed-horizon': 'Fixed-horizon tests',
} as const;

/** What the ★ beside a comparison means: the test `significant` copies (absolute scale, or always-valid). */
function starTitle(c: Comparison): string {
  const basis = c.significance.basis;
  return basis === 'always-valid'
    ? 'Significant by the always-valid (mSPRT) test of the absolute difference, adjusted for multiple comparisons'
    : 'Significant by the fixed-horizon test of the absolute difference (Welch / delta method), adjusted for multiple comparisons';
}

/** The report and its time series, as the API sends them (libs/contracts `reportSchema`, `timeseriesSchema`). */
export function useReport(key: string) {
  return useAsync(async () => {
    const [report, series] = await Promise.all([client.report(key), client.timeseries(key)]);
    return { report, series };
  }, [key]);
}

export function ResultsView({ experiment: e }: { experiment: Experiment }) {
  const data = useReport(e.key);
  if (data.loading && !data.data) return <Spinner label="Computing the report…" />;
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  const { report, series } = data.data!;
  return <ReportBody e={e} report={report} series={series} reload={data.reload} />;
}

function ReportBody({
  e,
  report,
  series,
  reload,
  print,
}: {
  e: Experiment;
  report: Report;
  series: Timeseries;
  reload?: () => void;
  print?: boolean;
}) {
  const rec = recommendation(report);
  const basis = { basis: report.recommendation.basis, reason: report.recommendation.basisReason };
  const me = multipleExposures(report);
  const units = totalUnits(report);
  const level = Math.round((1 - report.alpha) * 100);
  const metrics = [...report.metrics].sort((a, b) =>
    a.metric === e.metrics.primary ? -1 : b.metric === e.metrics.primary ? 1 : 0,
  );
  return (
    <div className="stack" data-testid="results">
      {report.srm.flagged && (
        <Banner tone="red" title="Sample-ratio mismatch." testId="srm-banner">
          The split of units (
          {Object.entries(report.srm.observed)
            .map(([k, v]) => `${k} ${int(v)}`)
            .join(', ')}
          ) does not match the weights (χ² = {num(report.srm.chiSquare)}, p = {pValue(report.srm.pValue)}). Results are
          not trustworthy until the cause is found: check assignment, targeting, and exposure logging.
        </Banner>
      )}
      {me && (
        <Banner tone="amber" title="Multiple exposures." testId="multiple-exposure-banner">
          {int(me.units)} units{isNum(me.fraction) ? ` (${pct(me.fraction, 2)})` : ''} were seen in more than one
          variant and are left out of the analysis.
        </Banner>
      )}
      <div className={`recommendation rec-${VERDICT_TONE[rec.verdict] ?? 'blue'}`} data-testid="recommendation">
        <div className="rec-label">{VERDICT_LABEL[rec.verdict] ?? rec.verdict}</div>
        <div className="rec-text">{rec.text}</div>
        {rec.details.length > 0 && (
          <ul className="small muted">
            {rec.details.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        )}
        <div className="rec-basis small" data-testid="recommendation-basis" data-basis={basis.basis}>
          <strong>Basis: {BASIS_LABEL[basis.basis]}</strong>
          {basis.reason ? <span className="muted"> — {basis.reason}</span> : null}
        </div>
      </div>
      <div className="report-meta muted small">
        <span>{int(units)} units</span>
        <span>α = {report.alpha}</span>
        <span>generated {dateTime(report.generatedAt)}</span>
        {!print && (
          <span className="report-links">
            {reload && (
              <Button kind="ghost" onClick={reload}>
                Refresh
              </Button>
            )}
            <a
              className="btn btn-secondary"
              href={`/v1/experiments/${encodeURIComponent(e.key)}/report?format=csv`}
              download={`${e.key}-report.csv`}
              data-testid="export-csv"
            >
              Export CSV
            </a>
            <Link className="btn btn-secondary" to={`/experiments/${e.key}/print`} data-testid="print-link">
              Printable report
            </Link>
          </span>
        )}
      </div>
      {units === 0 && (
        <Banner tone="blue" title="No units yet.">
          Numbers appear as units are exposed to the experiment.
        </Banner>
      )}
      {metrics.map((m) => (
        <MetricCard
          key={m.metric}
          m={m}
          primary={m.metric === e.metrics.primary}
          guardrail={e.metrics.guardrails.includes(m.metric)}
          level={level}
          print={print}
        />
      ))}
      {metrics.length === 0 && (
        <EmptyState title="No metrics in the report">The report has no metric sections yet.</EmptyState>
      )}
      <LiftOverTime series={series} metric={metrics[0]?.metric} level={level} print={print} />
    </div>
  );
}

function MetricCard({
  m,
  primary,
  guardrail,
  level,
  print,
}: {
  m: MetricReport;
  primary: boolean;
  guardrail: boolean;
  level: number;
  print?: boolean;
}) {
  const baseline = m.comparisons[0]?.baseline ?? m.variants[0]?.variant;
  const byVariant = new Map(m.comparisons.map((c) => [c.variant, c]));
  return (
    <Card
      title={
        <>
          <span className="mono">{m.metric}</span> {primary && <Badge tone="indigo">primary</Badge>}{' '}
          {guardrail && <Badge tone="amber">guardrail</Badge>}
        </>
      }
      testId={`metric-${m.metric}`}
    >
      <div className="table-wrap">
        <table className="table results-table" data-testid="results-table">
          <thead>
            <tr>
              <th>Variant</th>
              <th className="num">Units</th>
              <th className="num">Mean</th>
              <th className="num">Abs. lift ({level}% CI)</th>
              <th className="num">Rel. lift ({level}% CI)</th>
              <th
                className="num"
                title="Fixed-horizon p-value of the absolute difference (Welch), adjusted for multiple comparisons when shown below"
              >
                p-value
              </th>
              <th className="num" title="Always-valid p-value: safe to look at any time">
                Always-valid p
              </th>
              <th className="num">Chance to beat {baseline}</th>
            </tr>
          </thead>
          <tbody>
            {m.variants.map((v) => {
              const c = byVariant.get(v.variant);
              return (
                <tr
                  key={v.variant}
                  className={c?.significant ? ((c.absoluteLift ?? 0) > 0 ? 'row-win' : 'row-loss') : ''}
                >
                  <td className="mono">
                    {v.variant} {v.variant === baseline && <span className="muted small">baseline</span>}
                  </td>
                  <td className="num">{int(v.units)}</td>
                  <td className="num">{num(v.mean, 4)}</td>
                  {c ? (
                    <>
                      <td className="num">
                        <strong className={c.significant ? ((c.absoluteLift ?? 0) > 0 ? 'pos' : 'neg') : ''}>
                          {signed(c.absoluteLift)}
                        </strong>
                        {c.significant && (
                          <span className="star" title={starTitle(c)} data-testid="significance-star">
                            {' '}
                            ★
                          </span>
                        )}
                        <div className="ci">
                          [{signed(c.ci?.lower)}, {signed(c.ci?.upper)}]
                        </div>
                      </td>
                      <td className="num">
                        {isNum(c.relativeLift) ? (
                          <>
                            <strong className={c.significance.relative ? (c.relativeLift > 0 ? 'pos' : 'neg') : ''}>
                              {signedPct(c.relativeLift)}
                            </strong>
                            <div className="ci">
                              [{signedPct(c.relativeCi?.lower)}, {signedPct(c.relativeCi?.upper)}]
                            </div>
                            {c.significance.agree === false && (
                              <div className="ci scale-note" data-testid="scale-note">
                                {c.significance.relative
                                  ? 'significant on the relative scale only'
                                  : 'not significant on the relative scale (★ is the absolute test)'}
                              </div>
                            )}
                          </>
                        ) : (
                          <span
                            className="muted"
                            title={c.relativeLiftReason ?? undefined}
                            data-testid="relative-unavailable"
                          >
                            —
                          </span>
                        )}
                      </td>
                      <td className="num">
                        {pValue(c.pValue)}
                        {isNum(c.adjustedPValue) && c.adjustedPValue !== c.pValue && (
                          <div className="ci">adj. {pValue(c.adjustedPValue)}</div>
                        )}
                      </td>
                      <td className="num">{pValue(c.sequential.pValue)}</td>
                      <td className="num">{pct(c.bayesian.chanceToBeatBaseline)}</td>
                    </>
                  ) : (
                    <td colSpan={5} className="muted small">
                      {v.variant === baseline ? 'the baseline others are compared with' : 'no comparison'}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted small" data-testid="star-legend">
        ★ = significant at the report’s α by the{' '}
        {m.comparisons[0]?.significance.basis === 'always-valid' ? 'always-valid (sequential)' : 'fixed-horizon'} test
        of the absolute difference, after multiple-comparison adjustment. A bold relative lift is significant on the
        relative scale (delta method); the two tests can disagree near the threshold.
      </p>
      {m.comparisons.some((c) => c.relativeCi !== null) ? (
        <ForestPlot m={m} level={level} print={print} />
      ) : m.comparisons.length > 0 ? (
        <p className="muted small">Confidence intervals appear once every variant has enough units.</p>
      ) : null}
    </Card>
  );
}

function ForestPlot({ m, level, print }: { m: MetricReport; level: number; print?: boolean }) {
  const option = useMemo(() => {
    const rows = m.comparisons.flatMap((c) =>
      c.relativeLift !== null && c.relativeCi ? [{ ...c, relativeLift: c.relativeLift, relativeCi: c.relativeCi }] : [],
    );
    const cats = rows.map((c) => `${c.variant} vs ${c.baseline}`);
    const data = rows.map((c, i) => [
      c.relativeCi.lower * 100,
      c.relativeCi.upper * 100,
      c.relativeLift * 100,
      i,
      c.significance.relative ? 1 : 0,
    ]);
    return {
      animation: !print,
      grid: { left: 8, right: 24, top: 16, bottom: 36, containLabel: true },
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number }) => {
          const c = rows[p.dataIndex];
          return `${cats[p.dataIndex]}<br/>${signedPct(c.relativeLift)} (${level}% CI ${signedPct(c.relativeCi.lower)} to ${signedPct(c.relativeCi.upper)})`;
        },
      },
      xAxis: {
        type: 'value',
        name: `relative lift, % (${level}% CI)`,
        nameLocation: 'middle',
        nameGap: 26,
        axisLabel: { formatter: '{value}%' },
        splitLine: { lineStyle: { color: '#eef0f4' } },
      },
      yAxis: { type: 'category', data: cats, inverse: true, axisTick: { show: false } },
      series: [
        {
          type: 'custom',
          encode: { x: [0, 1, 2], y: 3 },
          data,
          renderItem: (_params: unknown, api: { value: (i: number) => number; coord: (v: number[]) => number[] }) => {
            const y = api.value(3);
            const lo = api.coord([api.value(0), y]);
            const hi = api.coord([api.value(1), y]);
            const mid = api.coord([api.value(2), y]);
            const color = api.value(4) ? (api.value(2) > 0 ? '#15803d' : '#b91c1c') : '#4f46e5';
            return {
              type: 'group',
              children: [
                {
                  type: 'line',
                  shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] },
                  style: { stroke: color, lineWidth: 2.5 },
                },
                {
                  type: 'line',
                  shape: { x1: lo[0], y1: lo[1] - 6, x2: lo[0], y2: lo[1] + 6 },
                  style: { stroke: color, lineWidth: 2 },
                },
                {
                  type: 'line',
                  shape: { x1: hi[0], y1: hi[1] - 6, x2: hi[0], y2: hi[1] + 6 },
                  style: { stroke: color, lineWidth: 2 },
                },
                {
                  type: 'circle',
                  shape: { cx: mid[0], cy: mid[1], r: 5.5 },
                  style: { fill: color, stroke: '#fff', lineWidth: 1.5 },
                },
              ],
            };
          },
          markLine: {
            silent: true,
            symbol: 'none',
            data: [{ xAxis: 0 }],
            lineStyle: { color: '#64748b', type: 'dashed' },
            label: { show: false },
          },
        },
      ],
    };
  }, [m, level, print]);
  return (
    <div className="chart-block">
      <h3 className="sub">Confidence intervals</h3>
      <Chart
        option={option}
        height={Math.max(140, 70 + m.comparisons.length * 46)}
        testId="forest-plot"
        label={`Forest plot of relative lift for ${m.metric}`}
      />
    </div>
  );
}

function LiftOverTime({
  series,
  metric,
  level,
  print,
}: {
  series: Timeseries;
  metric?: string;
  level: number;
  print?: boolean;
}) {
  const steps = series.days;
  const option = useMemo(() => {
    if (!metric) return null;
    const comparisonsOf = (step: Timeseries['days'][number]) =>
      step.metrics.find((m) => m.metric === metric)?.comparisons ?? [];
    const keys = [...new Set(steps.flatMap((step) => comparisonsOf(step).map((c) => c.variant)))];
    if (!keys.length) return null;
    const dates = steps.map((step) => stepLabel(step, series.bucket));
    const seriesOpts: unknown[] = [];
    keys.forEach((k, i) => {
      const at = (f: (c: ReturnType<typeof comparisonsOf>[number]) => number | null | undefined) =>
        steps.map((step) => {
          const c = comparisonsOf(step).find((x) => x.variant === k);
          const v = c ? f(c) : null;
          return isNum(v) ? v * 100 : null;
        });
      const lower = at((c) => c.relativeCi?.lower);
      const upper = at((c) => c.relativeCi?.upper);
      const color = PALETTE[(i + 1) % PALETTE.length];
      seriesOpts.push(
        {
          name: `${k} lower`,
          type: 'line',
          data: lower,
          stack: `band-${k}`,
          stackStrategy: 'all',
          symbol: 'none',
          lineStyle: { opacity: 0 },
          tooltip: { show: false },
          silent: true,
        },
        {
          name: `${k} ${level}% CI`,
          type: 'line',
          data: upper.map((u, j) => (isNum(u) && isNum(lower[j]) ? u - (lower[j] as number) : null)),
          stack: `band-${k}`,
          stackStrategy: 'all',
          symbol: 'none',
          lineStyle: { opacity: 0 },
          areaStyle: { color, opacity: 0.15 },
          tooltip: { show: false },
          silent: true,
        },
        {
          name: k,
          type: 'line',
          data: at((c) => c.relativeLift),
          symbol: 'circle',
          symbolSize: 5,
          lineStyle: { width: 2.5, color },
          itemStyle: { color },
        },
      );
    });
    return {
      animation: !print,
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, data: keys },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (isNum(v) ? `${v.toFixed(2)}%` : '—') },
      xAxis: { type: 'category', data: dates, boundaryGap: false },
      yAxis: { type: 'value', axisLabel: { formatter: '{value}%' }, splitLine: { lineStyle: { color: '#eef0f4' } } },
      series: [
        ...seriesOpts,
        {
          type: 'line',
          data: [],
          markLine: {
            silent: true,
            symbol: 'none',
            data: [{ yAxis: 0 }],
            lineStyle: { color: '#64748b', type: 'dashed' },
          },
        },
      ],
    };
  }, [series, steps, metric, level, print]);
  return (
    <Card
      title={<>Cumulative lift over time{metric ? <span className="muted"> · {metric}</span> : null}</>}
      testId="lift-over-time"
    >
      {option ? (
        <>
          <Chart
            option={option}
            height={300}
            testId="lift-chart"
            label={`Cumulative relative lift over time for ${metric}`}
          />
          {steps.length < 2 && (
            <p className="muted small">
              One {series.bucket} of data so far: the line and its band grow with each {series.bucket}.
            </p>
          )}
          {series.bucket !== 'day' && (
            <p className="muted small" data-testid="series-bucket">
              One point per {series.bucket} (UTC): the experiment is young.
            </p>
          )}
        </>
      ) : (
        <p className="muted" data-testid="lift-empty">
          The cumulative lift and its confidence band appear after the first {series.bucket} with data in every variant.
        </p>
      )}
    </Card>
  );
}

/** A printable page: the report with its charts, no navigation; the browser's print dialog makes the PDF. */
export function PrintReport({ experiment: e }: { experiment: Experiment }) {
  const data = useReport(e.key);
  useEffect(() => {
    document.body.classList.add('printing');
    return () => document.body.classList.remove('printing');
  }, []);
  return (
    <div className="print-page">
      <div className="print-head">
        <div>
          <h1>{e.name}</h1>
          <div className="muted">
            <span className="mono">{e.key}</span> · {e.kind === 'ab' ? 'A/B test' : `ranking, ${e.slots} slots`} ·{' '}
            {e.status} · primary metric {e.metrics.primary ?? '—'}
          </div>
          {e.hypothesis && <p className="hypothesis">{e.hypothesis}</p>}
        </div>
        <div className="no-print row">
          <Link to={`/experiments/${e.key}/results`} className="btn btn-ghost">
            ← Back
          </Link>
          <Button kind="primary" onClick={() => window.print()}>
            Print or save as PDF
          </Button>
        </div>
      </div>
      {data.loading && !data.data ? (
        <Spinner />
      ) : data.error ? (
        <ErrorBox error={data.error} />
      ) : data.data ? (
        <ReportBody e={e} report={data.data.report} series={data.data.series} print />
      ) : null}
    </div>
  );
}
