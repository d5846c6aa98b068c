import { useMemo, useState } from 'react';
import { Chart } from '../components/Chart';
import { Badge, Card, EmptyState, ErrorBox, Spinner, Stat, useAsync } from '../components/ui';
import { client } from '../lib/api';
import { PALETTE } from '../components/Chart';
import { dateTime, int, isNum, num, pct, signedPct } from '../lib/format';
import { rewardRace, stepLabel } from '../lib/types';
import type { DecisionRow, Experiment, Exploration, RewardRace, Timeseries } from '../lib/types';
import { useReport } from './Results';

/**
 * Bandit behaviour of a ranking experiment, from the report's `exploration` section (null for A/B experiments), the
 * time series and the decision log.
 */
export function BanditView({ experiment: e }: { experiment: Experiment }) {
  const data = useReport(e.key);
  const decisions = useAsync(() => client.decisions(e.key, { limit: 25 }), [e.key]);
  if (data.loading && !data.data) return <Spinner label="Loading bandit figures…" />;
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  const { report, series } = data.data!;
  const ex = report.exploration;
  return (
    <div className="stack" data-testid="bandit">
      {ex ? (
        <ExplorationSummary ex={ex} threshold={e.coldStartThreshold} />
      ) : (
        <EmptyState title="No exploration figures" testId="exploration-unavailable" icon="⟳">
          {e.kind === 'ranking'
            ? 'Start the experiment and call POST /v1/rank: how much the policy explores, and how it treats new items, appears here.'
            : 'An A/B experiment has no bandit policy: exploration figures belong to ranking experiments.'}
        </EmptyState>
      )}
      <RewardByVariant race={rewardRace(report, series)} bucket={series.bucket} />
      <div className="grid-2">
        <ExplorationOverTime series={series} />
        <SelectionShare series={series} />
      </div>
      {ex && <ItemTables ex={ex} threshold={e.coldStartThreshold} />}
      <DecisionsExplorer state={decisions} />
    </div>
  );
}

function ExplorationSummary({ ex, threshold }: { ex: Exploration; threshold: number }) {
  const shown = ex.coldItemsShown;
  const median = ex.medianDecisionsToGraduate;
  const perVariant = ex.variants;
  const chart = useMemo(
    () => ({
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (isNum(v) ? `${v.toFixed(1)}%` : '—') },
      xAxis: { type: 'category', data: perVariant.map((v) => v.variant) },
      yAxis: {
        type: 'value',
        min: 0,
        max: 100,
        axisLabel: { formatter: '{value}%' },
        splitLine: { lineStyle: { color: '#eef0f4' } },
      },
      series: [
        {
          name: 'explore rate',
          type: 'bar',
          barMaxWidth: 36,
          data: perVariant.map((v) => (isNum(v.exploreRate) ? v.exploreRate * 100 : null)),
        },
        {
          name: 'cold-start rate',
          type: 'bar',
          barMaxWidth: 36,
          data: perVariant.map((v) => (isNum(v.coldStartRate) ? v.coldStartRate * 100 : null)),
        },
      ],
    }),
    [perVariant],
  );
  return (
    <>
      <div className="stats" data-testid="exploration-stats">
        <Stat label="Decisions" value={int(ex.decisions)} hint={`${int(ex.slots)} slots filled`} />
        <Stat
          label="Explore rate"
          value={pct(ex.exploreRate)}
          hint="slots where the draw beat the greedy choice"
          testId="explore-rate"
        />
        <Stat
          label="Cold-start rate"
          value={pct(ex.coldStartRate)}
          hint={`slots given to items with < ${threshold} rewarded impressions`}
        />
        <Stat label="Cold items" value={int(ex.coldItems)} hint={`${int(shown)} shown at least once`} />
        {isNum(median) && <Stat label="Decisions to graduate" value={int(median)} hint="median per item" />}
      </div>
      {perVariant.length > 0 && (
        <Card title="By variant">
          <div className="grid-2 align-center">
            <Chart
              option={chart}
              height={220}
              testId="exploration-by-variant-chart"
              label="Explore and cold-start rate per variant"
            />
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th>Variant</th>
                    <th className="num">Decisions</th>
                    <th className="num">Explore rate</th>
                    <th className="num">Cold-start rate</th>
                  </tr>
                </thead>
                <tbody>
                  {perVariant.map((v) => (
                    <tr key={v.variant}>
                      <td className="mono">{v.variant}</td>
                      <td className="num">{int(v.decisions)}</td>
                      <td className="num">{pct(v.exploreRate)}</td>
                      <td className="num">{pct(v.coldStartRate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </Card>
      )}
    </>
  );
}

/**
 * Who earns more: the primary metric's cumulative mean per variant at the end of every step of the time series, and
 * the report's lift of each variant over the baseline (a bandit variant starts by exploring, so it usually trails
 * first; this shows when it took the lead).
 */
function RewardByVariant({ race, bucket }: { race: RewardRace | null; bucket: string }) {
  const option = useMemo(() => {
    if (!race || race.steps.length === 0) return null;
    return {
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => num(v) },
      xAxis: { type: 'category', data: race.steps.map((s) => s.label), boundaryGap: false },
      yAxis: { type: 'value', scale: true, splitLine: { lineStyle: { color: '#eef0f4' } } },
      series: race.variants.map((v, i) => ({
        name: v,
        type: 'line',
        symbolSize: 4,
        color: PALETTE[i % PALETTE.length],
        data: race.steps.map((s) => s.means[v] ?? null),
      })),
    };
  }, [race]);
  if (!race) return null;
  return (
    <Card title={`Reward by variant (${race.metric})`} testId="reward-by-variant">
      <div className="stats">
        <Stat
          label="Leading"
          value={race.leader ?? '—'}
          hint={`highest ${race.lowerIsBetter ? '(lowest) ' : ''}mean ${race.metric} per unit so far`}
          testId="reward-leader"
        />
        {race.comparisons.map((c) => (
          <Stat
            key={c.variant}
            label={`${c.variant} vs ${race.baseline}`}
            value={signedPct(c.relativeLift)}
            hint={`${c.aheadSince ? `ahead since ${c.aheadSince}` : 'behind or level so far'}${
              isNum(c.chance) ? ` · ${pct(c.chance)} chance to beat` : ''
            }`}
            testId={`reward-lift-${c.variant}`}
          />
        ))}
      </div>
      {option ? (
        <Chart
          option={option}
          height={260}
          testId="reward-by-variant-chart"
          label={`Cumulative mean ${race.metric} per unit per variant, per ${bucket}`}
        />
      ) : (
        <p className="muted">Appears after the first rewards.</p>
      )}
    </Card>
  );
}

/** The rates of each step alone (`exploration.day`), not the cumulative ones. */
function ExplorationOverTime({ series }: { series: Timeseries }) {
  const points = useMemo(
    () =>
      series.days.flatMap((step) =>
        step.exploration ? [{ label: stepLabel(step, series.bucket), rates: step.exploration.day }] : [],
      ),
    [series],
  );
  const option = useMemo(
    () => ({
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (isNum(v) ? `${v.toFixed(1)}%` : '—') },
      xAxis: { type: 'category', data: points.map((p) => p.label), boundaryGap: false },
      yAxis: {
        type: 'value',
        min: 0,
        axisLabel: { formatter: '{value}%' },
        splitLine: { lineStyle: { color: '#eef0f4' } },
      },
      series: [
        {
          name: 'explore rate',
          type: 'line',
          data: points.map((p) => (isNum(p.rates.exploreRate) ? p.rates.exploreRate * 100 : null)),
          symbolSize: 5,
        },
        {
          name: 'cold-start rate',
          type: 'line',
          data: points.map((p) => (isNum(p.rates.coldStartRate) ? p.rates.coldStartRate * 100 : null)),
          symbolSize: 5,
        },
      ],
    }),
    [points],
  );
  return (
    <Card title="Exploration over time">
      {points.length ? (
        <Chart
          option={option}
          height={260}
          testId="exploration-chart"
          label={`Explore rate and cold-start rate per ${series.bucket}`}
        />
      ) : (
        <p className="muted">Appears after the first decisions.</p>
      )}
    </Card>
  );
}

function SelectionShare({ series }: { series: Timeseries }) {
  const points = useMemo(
    () =>
      series.days.flatMap((step) =>
        step.selectionShare ? [{ label: stepLabel(step, series.bucket), share: step.selectionShare }] : [],
      ),
    [series],
  );
  const option = useMemo(() => {
    const totals = new Map<string, number>();
    for (const p of points) for (const [k, v] of Object.entries(p.share)) totals.set(k, (totals.get(k) ?? 0) + v);
    const top = [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k]) => k);
    return {
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (isNum(v) ? `${v.toFixed(1)}%` : '—') },
      xAxis: { type: 'category', data: points.map((p) => p.label), boundaryGap: false },
      yAxis: {
        type: 'value',
        min: 0,
        max: 100,
        axisLabel: { formatter: '{value}%' },
        splitLine: { lineStyle: { color: '#eef0f4' } },
      },
      series: [
        ...top.map((k) => ({
          name: k,
          type: 'line',
          stack: 'share',
          areaStyle: { opacity: 0.5 },
          symbol: 'none',
          data: points.map((p) => (p.share[k] ?? 0) * 100),
        })),
        {
          name: 'other',
          type: 'line',
          stack: 'share',
          areaStyle: { opacity: 0.25, color: '#cbd5e1' },
          lineStyle: { color: '#cbd5e1' },
          symbol: 'none',
          data: points.map((p) => Math.max(0, 100 - top.reduce((s, k) => s + (p.share[k] ?? 0) * 100, 0))),
        },
      ],
    };
  }, [points]);
  return (
    <Card title="Selection share per item">
      {points.length ? (
        <Chart
          option={option}
          height={260}
          testId="selection-share-chart"
          label={`Share of slots per item per ${series.bucket}`}
        />
      ) : (
        <p className="muted">Per-item shares appear after the first decisions of a ranking experiment.</p>
      )}
    </Card>
  );
}

function ItemTables({ ex, threshold }: { ex: Exploration; threshold: number }) {
  const top = ex.topItems;
  const cold = ex.coldItemList;
  return (
    <div className="grid-2">
      <Card title="Top items">
        {top.length ? (
          <div className="table-wrap">
            <table className="table" data-testid="top-items">
              <thead>
                <tr>
                  <th>Item</th>
                  <th className="num">Impressions</th>
                  <th
                    className="num"
                    title={
                      ex.topItemsMethod === 'beta-normal'
                        ? 'Beta posterior mean (normal-approximation interval)'
                        : 'Mean reward per impression (Wilson or normal 95% interval)'
                    }
                  >
                    {ex.topItemsMethod === 'beta-normal' ? 'Posterior mean' : 'Mean reward'}
                  </th>
                  <th className="num">Interval</th>
                </tr>
              </thead>
              <tbody>
                {top.map((it) => (
                  <tr key={it.itemId}>
                    <td className="mono">
                      {it.itemId} {it.cold && <Badge tone="blue">cold</Badge>}
                    </td>
                    <td className="num">{int(it.impressions)}</td>
                    <td className="num">{num(it.posteriorMean)}</td>
                    <td className="num ci">
                      {isNum(it.lower) && isNum(it.upper) ? `[${num(it.lower)}, ${num(it.upper)}]` : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">No item has been shown yet.</p>
        )}
      </Card>
      <Card title="Cold items">
        {cold.length ? (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>Item</th>
                  <th className="num">Rewarded impressions</th>
                  <th>To graduate</th>
                </tr>
              </thead>
              <tbody>
                {cold.map((it) => {
                  const seen = it.impressions;
                  const share = Math.min(1, seen / threshold);
                  return (
                    <tr key={it.itemId}>
                      <td className="mono">{it.itemId}</td>
                      <td className="num">{int(seen)}</td>
                      <td>
                        <div className="progress" title={`${int(it.remaining)} to go`}>
                          <span style={{ width: `${share * 100}%` }} />
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">
            {ex.coldItems ? `${int(ex.coldItems)} cold items, none shown in this window.` : 'No cold items right now.'}
          </p>
        )}
      </Card>
    </div>
  );
}

function DecisionsExplorer({
  state,
}: {
  state: { data: { decisions: DecisionRow[] } | undefined; error: string | null; loading: boolean; reload: () => void };
}) {
  const [open, setOpen] = useState<string | null>(null);
  const rows = state.data?.decisions ?? [];
  return (
    <Card title="Recent decisions" testId="decisions">
      {state.loading && state.data === undefined ? (
        <Spinner />
      ) : state.error ? (
        <ErrorBox error={state.error} onRetry={state.reload} />
      ) : rows.length === 0 ? (
        <p className="muted">No decisions yet. They appear as your product calls POST /v1/rank.</p>
      ) : (
        <ul className="decisions">
          {rows.map((d) => (
            <li key={d.decisionId}>
              <button
                type="button"
                className="decision-head"
                onClick={() => setOpen(open === d.decisionId ? null : d.decisionId)}
                aria-expanded={open === d.decisionId}
              >
                <span className="mono small">{d.decisionId.slice(0, 8)}</span>
                <span>{d.variant ?? '—'}</span>
                <span className="muted small">{d.unitId ?? ''}</span>
                <span className="muted small">{dateTime(d.at)}</span>
                <span className="small">
                  {d.slots.filter((s) => s.explored).length} explored · {d.slots.filter((s) => s.coldStart).length} cold
                </span>
              </button>
              {open === d.decisionId && (
                <div className="table-wrap">
                  <table className="table">
                    <thead>
                      <tr>
                        <th>#</th>
                        <th>Item</th>
                        <th className="num">Score</th>
                        <th className="num">Propensity</th>
                        <th>Flags</th>
                        <th>Explanation</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.slots.map((s) => (
                        <tr key={s.position}>
                          <td>{s.position}</td>
                          <td className="mono">{s.itemId}</td>
                          <td className="num">{num(s.score)}</td>
                          <td className="num">{num(s.propensity)}</td>
                          <td>
                            {s.explored && <Badge tone="amber">explored</Badge>}{' '}
                            {s.coldStart && <Badge tone="blue">cold</Badge>}
                          </td>
                          <td className="mono small explain">{s.explanation ? JSON.stringify(s.explanation) : '—'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
