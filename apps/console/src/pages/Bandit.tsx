import { useMemo, useState } from 'react';
import { Chart } from '../components/Chart';
import { Badge, Card, EmptyState, ErrorBox, Spinner, Stat, useAsync } from '../components/ui';
import { apiOptional } from '../lib/api';
import { dateTime, int, isNum, num, pct } from '../lib/format';
import { BUCKET_WORD, stepLabel } from '../lib/types';
import type { DecisionRow, Experiment, Exploration, SeriesPoint } from '../lib/types';
import { useReport } from './Results';

interface ItemRow {
  itemId: string;
  impressions?: number;
  rewards?: number;
  posteriorMean?: number;
  lower?: number;
  upper?: number;
  cold?: boolean;
  remaining?: number;
}

const arr = (x: unknown): Record<string, unknown>[] => (Array.isArray(x) ? (x as Record<string, unknown>[]) : []);

function items(x: unknown): ItemRow[] {
  return arr(x).map((r) => {
    const interval = (r.interval ?? r.ci ?? {}) as Record<string, unknown>;
    return {
      itemId: String(r.itemId ?? r.id ?? ''),
      impressions: [r.impressions, r.rewardedImpressions, r.shown].find(isNum),
      rewards: [r.rewards, r.rewardSum].find(isNum),
      posteriorMean: [r.posteriorMean, r.mean].find(isNum),
      lower: [r.lower, interval.lower].find(isNum),
      upper: [r.upper, interval.upper].find(isNum),
      cold: typeof r.cold === 'boolean' ? r.cold : typeof r.coldStart === 'boolean' ? r.coldStart : undefined,
      remaining: [r.remaining, r.impressionsToGraduate, r.toGraduate].find(isNum),
    };
  });
}

/**
 * Bandit behaviour of a ranking experiment, from the report's `exploration` section, the time series and the
 * decision log. Each part shows its own "not available yet" state, so it lights up as endpoints land.
 */
export function BanditView({ experiment: e }: { experiment: Experiment }) {
  const data = useReport(e.key);
  const decisions = useAsync(() => apiOptional<{ decisions: DecisionRow[] } | DecisionRow[]>(`/v1/experiments/${encodeURIComponent(e.key)}/decisions?limit=25`), [e.key]);
  if (data.loading && !data.data) return <Spinner label="Loading bandit figures…" />;
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  const ex = data.data?.report?.exploration ?? null;
  const series = data.data?.series ?? null;
  return (
    <div className="stack" data-testid="bandit">
      {ex ? (
        <ExplorationSummary ex={ex} threshold={e.coldStartThreshold} />
      ) : (
        <EmptyState title="Exploration figures are not available yet" testId="exploration-unavailable" icon="⟳">
          {e.status === 'draft'
            ? 'Start the experiment and call POST /v1/rank: how much the policy explores, and how it treats new items, appears here.'
            : 'The report’s exploration section (GET /v1/experiments/{key}/report) is not served for this experiment yet.'}
        </EmptyState>
      )}
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
  const shown = [ex.coldItemsShown, ex.coldItemsShownOnce].find(isNum);
  const median = [ex.medianDecisionsToGraduate, ex.medianToGraduate].find(isNum);
  const perVariant = useMemo(() => arr(ex.variants ?? ex.byVariant), [ex]);
  const hasCold = perVariant.some((v) => isNum(v.coldItems));
  const chart = useMemo(
    () => ({
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (isNum(v) ? `${v.toFixed(1)}%` : '—') },
      xAxis: { type: 'category', data: perVariant.map((v) => String(v.variant)) },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' }, splitLine: { lineStyle: { color: '#eef0f4' } } },
      series: [
        { name: 'explore rate', type: 'bar', barMaxWidth: 36, data: perVariant.map((v) => (isNum(v.exploreRate) ? v.exploreRate * 100 : null)) },
        { name: 'cold-start rate', type: 'bar', barMaxWidth: 36, data: perVariant.map((v) => (isNum(v.coldStartRate) ? v.coldStartRate * 100 : null)) },
      ],
    }),
    [perVariant],
  );
  return (
    <>
      <div className="stats" data-testid="exploration-stats">
        <Stat label="Decisions" value={int(ex.decisions)} hint={`${int(ex.slots)} slots filled`} />
        <Stat label="Explore rate" value={pct(ex.exploreRate)} hint="slots where the draw beat the greedy choice" testId="explore-rate" />
        <Stat label="Cold-start rate" value={pct(ex.coldStartRate)} hint={`slots given to items with < ${threshold} rewarded impressions`} />
        <Stat label="Cold items" value={int(ex.coldItems)} hint={isNum(shown) ? `${int(shown)} shown at least once` : undefined} />
        {isNum(median) && <Stat label="Decisions to graduate" value={int(median)} hint="median per item" />}
      </div>
      {perVariant.length > 0 && (
        <Card title="By variant">
          <div className="grid-2 align-center">
          <Chart option={chart} height={220} testId="exploration-by-variant-chart" label="Explore and cold-start rate per variant" />
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>Variant</th>
                  <th className="num">Decisions</th>
                  <th className="num">Explore rate</th>
                  <th className="num">Cold-start rate</th>
                  {hasCold && <th className="num">Cold items</th>}
                </tr>
              </thead>
              <tbody>
                {perVariant.map((v) => (
                  <tr key={String(v.variant)}>
                    <td className="mono">{String(v.variant)}</td>
                    <td className="num">{int(v.decisions)}</td>
                    <td className="num">{pct(v.exploreRate)}</td>
                    <td className="num">{pct(v.coldStartRate)}</td>
                    {hasCold && <td className="num">{int(v.coldItems)}</td>}
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

function ExplorationOverTime({ series }: { series: SeriesPoint[] | null }) {
  const points = (series ?? []).filter((p) => p.exploration);
  const option = useMemo(
    () => ({
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (isNum(v) ? `${v.toFixed(1)}%` : '—') },
      xAxis: { type: 'category', data: points.map(stepLabel), boundaryGap: false },
      yAxis: { type: 'value', min: 0, axisLabel: { formatter: '{value}%' }, splitLine: { lineStyle: { color: '#eef0f4' } } },
      series: [
        { name: 'explore rate', type: 'line', data: points.map((p) => (isNum(p.exploration?.exploreRate) ? p.exploration!.exploreRate! * 100 : null)), symbolSize: 5 },
        { name: 'cold-start rate', type: 'line', data: points.map((p) => (isNum(p.exploration?.coldStartRate) ? p.exploration!.coldStartRate! * 100 : null)), symbolSize: 5 },
      ],
    }),
    [points],
  );
  return (
    <Card title="Exploration over time">
      {points.length ? (
        <Chart option={option} height={260} testId="exploration-chart" label={`Explore rate and cold-start rate per ${BUCKET_WORD[points[0].bucket]}`} />
      ) : (
        <p className="muted">{series === null ? 'Needs the report time series (GET …/report/timeseries), not offered by this server yet.' : 'Appears after the first decisions.'}</p>
      )}
    </Card>
  );
}

function SelectionShare({ series }: { series: SeriesPoint[] | null }) {
  const points = (series ?? []).filter((p) => p.selectionShare);
  const option = useMemo(() => {
    const totals = new Map<string, number>();
    for (const p of points) for (const [k, v] of Object.entries(p.selectionShare!)) totals.set(k, (totals.get(k) ?? 0) + v);
    const top = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k]) => k);
    return {
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => (isNum(v) ? `${v.toFixed(1)}%` : '—') },
      xAxis: { type: 'category', data: points.map(stepLabel), boundaryGap: false },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' }, splitLine: { lineStyle: { color: '#eef0f4' } } },
      series: [
        ...top.map((k) => ({ name: k, type: 'line', stack: 'share', areaStyle: { opacity: 0.5 }, symbol: 'none', data: points.map((p) => (p.selectionShare![k] ?? 0) * 100) })),
        { name: 'other', type: 'line', stack: 'share', areaStyle: { opacity: 0.25, color: '#cbd5e1' }, lineStyle: { color: '#cbd5e1' }, symbol: 'none', data: points.map((p) => Math.max(0, 100 - top.reduce((s, k) => s + (p.selectionShare![k] ?? 0) * 100, 0))) },
      ],
    };
  }, [points]);
  return (
    <Card title="Selection share per item">
      {points.length ? (
        <Chart option={option} height={260} testId="selection-share-chart" label={`Share of slots per item per ${BUCKET_WORD[points[0].bucket]}`} />
      ) : (
        <p className="muted">{series === null ? 'Needs the report time series, not offered by this server yet.' : 'Per-item shares appear once the time series carries them.'}</p>
      )}
    </Card>
  );
}

function ItemTables({ ex, threshold }: { ex: Exploration; threshold: number }) {
  const top = items(ex.topItems ?? ex.items);
  const cold = items(ex.coldItemList ?? ex.coldItemsDetail ?? ex.coldItemDetails);
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
                  <th className="num" title={ex.topItemsMethod === 'beta-normal' ? 'Beta posterior mean (normal-approximation interval)' : 'Mean reward per impression (Wilson or normal 95% interval)'}>{ex.topItemsMethod === 'beta-normal' ? 'Posterior mean' : 'Mean reward'}</th>
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
                    <td className="num ci">{isNum(it.lower) && isNum(it.upper) ? `[${num(it.lower)}, ${num(it.upper)}]` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">The report does not list items with their posteriors yet.</p>
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
                  const seen = it.impressions ?? 0;
                  const share = Math.min(1, seen / threshold);
                  return (
                    <tr key={it.itemId}>
                      <td className="mono">{it.itemId}</td>
                      <td className="num">{int(seen)}</td>
                      <td>
                        <div className="progress" title={`${int(it.remaining ?? Math.max(0, threshold - seen))} to go`}>
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
          <p className="muted">{ex.coldItems ? `${int(ex.coldItems)} cold items; the report does not list them individually yet.` : 'No cold items right now.'}</p>
        )}
      </Card>
    </div>
  );
}

function DecisionsExplorer({ state }: { state: { data: { decisions: DecisionRow[] } | DecisionRow[] | null | undefined; error: string | null; loading: boolean; reload: () => void } }) {
  const [open, setOpen] = useState<string | null>(null);
  const rows = state.data ? (Array.isArray(state.data) ? state.data : (state.data.decisions ?? [])) : [];
  return (
    <Card title="Recent decisions" testId="decisions">
      {state.loading && state.data === undefined ? (
        <Spinner />
      ) : state.error ? (
        <ErrorBox error={state.error} onRetry={state.reload} />
      ) : state.data === null ? (
        <p className="muted" data-testid="decisions-unavailable">
          The decision log is not browsable on this server yet (GET /v1/experiments/&#123;key&#125;/decisions). Each decision will show its slots, propensities and the per-slot explanation.
        </p>
      ) : rows.length === 0 ? (
        <p className="muted">No decisions yet. They appear as your product calls POST /v1/rank.</p>
      ) : (
        <ul className="decisions">
          {rows.map((d) => (
            <li key={d.decisionId}>
              <button type="button" className="decision-head" onClick={() => setOpen(open === d.decisionId ? null : d.decisionId)} aria-expanded={open === d.decisionId}>
                <span className="mono small">{d.decisionId.slice(0, 8)}</span>
                <span>{d.variant ?? '—'}</span>
                <span className="muted small">{d.unitId ?? ''}</span>
                <span className="muted small">{dateTime(d.at ?? d.createdAt)}</span>
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
                            {s.explored && <Badge tone="amber">explored</Badge>} {s.coldStart && <Badge tone="blue">cold</Badge>}
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
